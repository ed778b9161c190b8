resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_llm_provider" "example" {
  organization_id = agyn_organization.acme.id
  name            = "openai"
  endpoint        = "https://api.openai.com/v1"
  protocol        = "responses"
  auth_method     = "bearer"
  token           = "sk-example-secret-token"
}
