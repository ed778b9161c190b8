# Validation blocks state the platform's rules (tests/terraform/test_modules.py checks them against the
# resource registry), so a mistake is reported on the module's variable at plan.

variable "name" {
  description = "Unique name of the organization (1 to 100 characters)."
  type        = string
  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 100
    error_message = "name must be 1 to 100 characters."
  }
}

variable "members" {
  description = "Identities to add, by a name you choose: the identity id and the role (owner or member; default member). Keys are names, not ids, so the users may be created in the same configuration. Added by a cluster admin they are active at once; added by an owner they are invitations."
  type = map(object({
    identity_id = string
    role        = optional(string, "member")
  }))
  default = {}
  validation {
    condition     = alltrue([for member in values(var.members) : contains(["owner", "member"], member.role)])
    error_message = "members: each role must be owner or member."
  }
}

variable "llm_provider" {
  description = "The organization's LLM provider, or null for none (then models must be empty). protocol: responses or anthropic_messages; auth_method: bearer, x_api_key or custom_headers."
  type = object({
    name        = optional(string)
    endpoint    = string
    protocol    = optional(string, "responses")
    auth_method = string
  })
  default = null
  validation {
    condition     = var.llm_provider == null || can(regex("^(?:https?://[^\\s/$.?#][^\\s]*)$", var.llm_provider.endpoint))
    error_message = "llm_provider.endpoint must be an http(s) URL such as https://example.com."
  }
  validation {
    condition     = var.llm_provider == null || contains(["responses", "anthropic_messages"], var.llm_provider.protocol)
    error_message = "llm_provider.protocol must be responses or anthropic_messages."
  }
  validation {
    condition     = var.llm_provider == null || contains(["bearer", "x_api_key", "custom_headers"], var.llm_provider.auth_method)
    error_message = "llm_provider.auth_method must be one of bearer, x_api_key, custom_headers."
  }
}

variable "llm_provider_token" {
  description = "The provider's API key (auth_method bearer or x_api_key)."
  type        = string
  default     = null
  sensitive   = true
}

variable "llm_provider_headers" {
  description = "Headers sent to the provider (auth_method custom_headers)."
  type        = map(string)
  default     = null
  sensitive   = true
}

variable "models" {
  description = "Models served by the LLM provider: platform name => the provider's model name. Needs llm_provider."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for name in keys(var.models) : can(regex("^(?:[A-Za-z0-9][A-Za-z0-9._:/-]*)$", name))])
    error_message = "models: each name: use letters, digits and . _ : / - (starting with a letter or digit)."
  }
}
