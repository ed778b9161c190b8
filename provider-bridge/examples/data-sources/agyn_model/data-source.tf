data "agyn_organization" "acme" {
  name = "acme"
}

data "agyn_model" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "gpt-4o"
}

output "model_id" {
  value = data.agyn_model.example.id
}
