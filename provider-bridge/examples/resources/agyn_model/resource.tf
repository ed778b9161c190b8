resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_llm_provider" "openai" {
  organization_id = agyn_organization.acme.id
  endpoint        = "https://api.openai.com/v1"
  auth_method     = "bearer"
  token           = "sk-example-secret-token"
}

resource "agyn_model" "example" {
  organization_id = agyn_organization.acme.id
  llm_provider_id = agyn_llm_provider.openai.id
  name            = "gpt-4o"
  remote_name     = "gpt-4o-2024-08-06"
}
