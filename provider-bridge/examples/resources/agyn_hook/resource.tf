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

resource "agyn_hook" "example" {
  agent_id = agyn_agent.reviewer.id
  event    = "workload.started"
  function = "notify-start"
  image    = "alpine:3.20"
}
