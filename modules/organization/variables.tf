variable "name" {
  description = "Unique name of the organization."
  type        = string
}

variable "members" {
  description = "Identities to add, by identity id, with their role (owner or member). Added by a cluster admin they are active at once; added by an owner they are invitations."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for role in values(var.members) : contains(["owner", "member"], role)])
    error_message = "Each member's role must be owner or member."
  }
}

variable "llm_provider" {
  description = "The organization's LLM provider, or null for none. auth_method: bearer, x_api_key or custom_headers."
  type = object({
    name        = optional(string)
    endpoint    = string
    protocol    = optional(string, "responses")
    auth_method = string
  })
  default = null
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
  description = "Models served by the LLM provider: platform name => the provider's model name."
  type        = map(string)
  default     = {}
}
