# The offline demo: an organization, the platform's own scripted test LLM as its LLM provider, a model,
# and the agent `assistant` with an MCP server (a weather tool). The provider reads AGYN_API_URL and
# AGYN_API_TOKEN from the environment; scripts/quickstart.sh applies this and talks to the agent.

terraform {
  required_version = ">= 1.0"
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

resource "agyn_organization" "quickstart" {
  name = "quickstart"
}

resource "agyn_llm_provider" "test_llm" {
  organization_id = agyn_organization.quickstart.id
  name            = "test-llm"
  endpoint        = "${var.platform_url}/testllm/agn/v1"
  auth_method     = "bearer"
  token           = "the-test-llm-ignores-keys"
}

# the test LLM's model names are its scripted tests: this one asks the weather tool, then answers
resource "agyn_model" "scripted" {
  organization_id = agyn_organization.quickstart.id
  name            = "scripted"
  llm_provider_id = agyn_llm_provider.test_llm.id
  remote_name     = "simple-tool-call"
}

resource "agyn_agent" "assistant" {
  organization_id = agyn_organization.quickstart.id
  name            = "assistant"
  nickname        = "assistant"
  role            = "assistant"
  model           = agyn_model.scripted.id
  availability    = "internal"
}

resource "agyn_mcp" "weather" {
  agent_id = agyn_agent.assistant.id
  name     = "weather"
  command  = "python -m agyn.agent_runtime.weather_mcp"
}

output "organization_id" {
  value = agyn_organization.quickstart.id
}
