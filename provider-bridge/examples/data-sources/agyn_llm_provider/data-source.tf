data "agyn_organization" "acme" {
  name = "acme"
}

# By name, in an organization.
data "agyn_llm_provider" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "openai"
}

output "llm_provider_id" {
  value = data.agyn_llm_provider.example.id
}
