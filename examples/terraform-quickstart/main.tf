# An organization with an LLM provider and a model, a secret, and an agent with an MCP server, a
# skill and an environment variable taken from the secret. The provider reads AGYN_API_URL and
# AGYN_API_TOKEN from the environment. The LLM provider is the platform's built-in scripted test LLM,
# so the example works offline; point `endpoint` at a real provider (and its key) to use one.

terraform {
  required_version = ">= 1.0" # the agyn provider works on Terraform 1.0 and later
  required_providers {
    agyn = {
      source  = "agynio/agyn"
      version = ">= 0.1.0"
    }
  }
}

provider "agyn" {}

variable "platform_url" {
  description = "The platform's URL; its test LLM is served at <url>/testllm/<suite>/v1."
  type        = string
  default     = "http://127.0.0.1:8080"
}

variable "llm_api_key" {
  description = "API key of the LLM provider (the test LLM ignores it)."
  type        = string
  sensitive   = true
  default     = "sk-quickstart-placeholder"
}

variable "github_token" {
  description = "A token the agent's tools use, kept as a secret."
  type        = string
  sensitive   = true
  default     = "ghp-quickstart-placeholder"
}

resource "agyn_organization" "acme" {
  name = "acme-quickstart"
}

resource "agyn_llm_provider" "test_llm" {
  organization_id = agyn_organization.acme.id
  name            = "test-llm"
  endpoint        = "${var.platform_url}/testllm/agn/v1"
  auth_method     = "bearer"
  token           = var.llm_api_key
}

# the test LLM's model names are its scripted tests
resource "agyn_model" "scripted" {
  organization_id = agyn_organization.acme.id
  name            = "scripted"
  llm_provider_id = agyn_llm_provider.test_llm.id
  remote_name     = "simple-hello"
}

resource "agyn_secret" "github" {
  organization_id = agyn_organization.acme.id
  name            = "github-token"
  value           = var.github_token
}

resource "agyn_agent" "helper" {
  organization_id = agyn_organization.acme.id
  name            = "helper"
  nickname        = "helper"
  role            = "assistant"
  model           = agyn_model.scripted.id
  availability    = "internal"
  idle_timeout    = "5m"
  configuration = jsonencode({
    system_prompt = "You help the team triage GitHub issues."
  })
}

resource "agyn_mcp" "github" {
  agent_id = agyn_agent.helper.id
  name     = "github"
  command  = "github-mcp-server stdio"
}

resource "agyn_skill" "triage" {
  agent_id    = agyn_agent.helper.id
  name        = "triage"
  description = "When a new issue arrives."
  body        = "Read the issue, label it by area, and ask for a reproduction when one is missing."
}

resource "agyn_env" "github_token" {
  mcp_id    = agyn_mcp.github.id
  name      = "GITHUB_TOKEN"
  secret_id = agyn_secret.github.id
}

output "organization_id" {
  value = agyn_organization.acme.id
}

output "agent_id" {
  value = agyn_agent.helper.id
}
