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

resource "agyn_user" "dana" {
  oidc_subject = "example|dana"
  username     = "dana"
}

resource "agyn_membership" "dana" {
  organization_id = agyn_organization.acme.id
  identity_id     = agyn_user.dana.id
}

# Import with: terraform import agyn_agent_role.example <agent_id>:<identity_id>
resource "agyn_agent_role" "example" {
  agent_id    = agyn_agent.reviewer.id
  identity_id = agyn_membership.dana.identity_id
  role        = "participant"
}
