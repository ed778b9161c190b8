resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_llm_provider" "openai" {
  organization_id = agyn_organization.acme.id
  endpoint        = "https://api.openai.com/v1"
  auth_method     = "bearer"
  token           = "sk-example-secret-token"
}

resource "agyn_model" "gpt" {
  organization_id = agyn_organization.acme.id
  llm_provider_id = agyn_llm_provider.openai.id
  name            = "gpt-4o"
  remote_name     = "gpt-4o-2024-08-06"
}

resource "agyn_agent" "reviewer" {
  organization_id = agyn_organization.acme.id
  name            = "reviewer"
  role            = "code reviewer"
  model           = agyn_model.gpt.id
  availability    = "internal"
}

resource "agyn_env" "example" {
  agent_id = agyn_agent.reviewer.id
  name     = "REVIEW_TOKEN"
  value    = "env-example-secret-value"
}

resource "agyn_secret" "github" {
  organization_id = agyn_organization.acme.id
  name            = "github-token"
  value           = "ghp_example-secret-value"
}

resource "agyn_env" "from_secret" {
  agent_id  = agyn_agent.reviewer.id
  name      = "GITHUB_TOKEN"
  secret_id = agyn_secret.github.id
}
