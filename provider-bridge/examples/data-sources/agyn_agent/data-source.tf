data "agyn_organization" "acme" {
  name = "acme"
}

# By name, in an organization.
data "agyn_agent" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "reviewer"
}

output "reviewer_model" {
  value = data.agyn_agent.example.model
}
