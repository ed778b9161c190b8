# The modules in modules/ used together with the users they reference, all in one configuration: an
# organization with two members, an LLM provider and its models, and an agent with a secret, plain
# and secret environment variables, an MCP server, a skill, a hook, a volume and a role. The
# provider reads AGYN_API_URL and AGYN_API_TOKEN from the environment.

terraform {
  required_version = ">= 1.3" # the modules use optional() attributes with defaults
  required_providers {
    agyn = {
      source  = "agynio/agyn"
      version = ">= 0.1.0"
    }
  }
}

provider "agyn" {}

variable "llm_api_key" {
  description = "API key of the LLM provider."
  type        = string
  sensitive   = true
  default     = "sk-modules-placeholder"
}

resource "agyn_user" "dana" {
  oidc_subject = "example|modules-example-dana"
  name         = "Dana Example"
}

resource "agyn_user" "eli" {
  oidc_subject = "example|modules-example-eli"
  name         = "Eli Example"
}

module "acme" {
  source = "../../modules/organization"
  name   = "acme-modules"
  members = {
    dana = { identity_id = agyn_user.dana.id, role = "owner" }
    eli  = { identity_id = agyn_user.eli.id }
  }
  llm_provider       = { endpoint = "https://api.openai.com/v1", auth_method = "bearer" }
  llm_provider_token = var.llm_api_key
  models             = { "gpt-4o" = "gpt-4o-2024-08-06", "gpt-4o-mini" = "gpt-4o-mini" }
}

resource "agyn_secret" "github" {
  organization_id = module.acme.organization_id
  name            = "github-token"
  value           = "ghp-modules-placeholder"
}

module "reviewer" {
  source          = "../../modules/agent"
  organization_id = module.acme.organization_id
  name            = "reviewer"
  nickname        = "reviewer"
  model_id        = module.acme.model_ids["gpt-4o"]
  system_prompt   = "You review pull requests."
  env             = { LOG_LEVEL = "info" }
  secret_envs     = { GITHUB_TOKEN = agyn_secret.github.id }
  mcp_servers = {
    github = { command = "github-mcp-server stdio", secret_envs = { GITHUB_PERSONAL_ACCESS_TOKEN = agyn_secret.github.id } }
  }
  skills       = { review = { body = "Read the diff, run the tests, comment on what would break.", description = "A pull request to review" } }
  hooks        = { started = { event = "workload.started", function = "echo started" } }
  init_scripts = { git = "git config --global user.name reviewer" }
  volumes      = { workspace = { mount_path = "/workspace" } }
  roles        = { eli = { identity_id = module.acme.member_ids["eli"], role = "maintainer" } }
}

output "agent_id" {
  value = module.reviewer.agent_id
}
