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

resource "agyn_agent" "example" {
  organization_id = agyn_organization.acme.id
  name            = "reviewer"
  nickname        = "reviewer"
  role            = "code reviewer"
  model           = agyn_model.gpt.id
  image           = "ghcr.io/agynio/agent:latest"
  configuration   = jsonencode({ system_prompt = "Review pull requests carefully." })
  idle_timeout    = "5m"
  runner_labels   = { zone = "eu-west" }
  capabilities    = ["docker"]
  availability    = "internal"
  resources {
    requests_cpu    = "250m"
    requests_memory = "256Mi"
    limits_memory   = "1Gi"
  }
}
