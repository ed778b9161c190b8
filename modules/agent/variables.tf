variable "organization_id" {
  description = "The organization that owns the agent."
  type        = string
}

variable "name" {
  description = "The agent's name, unique in the organization."
  type        = string
}

variable "nickname" {
  description = "The @handle people mention it by (a-z, 0-9, _ and -; at most 32)."
  type        = string
  default     = null
}

variable "role" {
  description = "What it does, e.g. assistant."
  type        = string
  default     = "assistant"
}

variable "model_id" {
  description = "Id of the model it uses (a model of the same organization)."
  type        = string
}

variable "system_prompt" {
  description = "The system prompt, kept in the agent's configuration."
  type        = string
  default     = ""
}

variable "configuration" {
  description = "Further configuration merged over { system_prompt }."
  type        = any
  default     = {}
}

variable "image" {
  description = "Container image the agent runs in."
  type        = string
  default     = null
}

variable "availability" {
  description = "internal: every member may start conversations with it; private: only those with a role."
  type        = string
  default     = "internal"
}

variable "idle_timeout" {
  description = "How long an idle workload stays up, e.g. 5m."
  type        = string
  default     = "5m"
}

variable "mcp_servers" {
  description = "MCP servers by name: the command that starts each, an optional image and plain env."
  type = map(object({
    command = string
    image   = optional(string)
    env     = optional(map(string), {})
  }))
  default = {}
}

variable "skills" {
  description = "Skills by name: the instructions and when they apply."
  type = map(object({
    body        = string
    description = optional(string)
  }))
  default = {}
}

variable "secret_envs" {
  description = "Environment variables of the agent taken from secrets: variable name => secret id."
  type        = map(string)
  default     = {}
}

variable "init_scripts" {
  description = "Shell scripts run before the agent starts."
  type        = list(string)
  default     = []
}

variable "roles" {
  description = "Agent roles: identity id => owner, maintainer or participant (identities must be members)."
  type        = map(string)
  default     = {}
}
