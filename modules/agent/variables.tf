# Validation blocks state the platform's rules (tests/terraform/test_modules.py checks them against the
# resource registry), so a mistake is reported on the module's variable at plan.

variable "organization_id" {
  description = "The organization that owns the agent."
  type        = string
}

variable "name" {
  description = "The agent's name, unique in the organization (1 to 64 characters)."
  type        = string
  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 64
    error_message = "name must be 1 to 64 characters."
  }
}

variable "nickname" {
  description = "The @handle people mention it by (a-z, 0-9, _ and -; at most 32)."
  type        = string
  default     = null
  validation {
    condition     = var.nickname == null || can(regex("^(?:[a-z0-9_-]{1,32})$", var.nickname))
    error_message = "nickname: use 1 to 32 characters from a-z, 0-9, '_' and '-'."
  }
}

variable "role" {
  description = "What it does, e.g. assistant (1 to 64 characters)."
  type        = string
  default     = "assistant"
  validation {
    condition     = length(var.role) >= 1 && length(var.role) <= 64
    error_message = "role must be 1 to 64 characters."
  }
}

variable "model_id" {
  description = "The id of the model it uses (an agyn_model of the same organization), not the model's name."
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

variable "init_image" {
  description = "Container image that prepares the workload before the agent starts."
  type        = string
  default     = null
}

variable "availability" {
  description = "internal: every member may start conversations with it; private: only those with a role."
  type        = string
  default     = "internal"
  validation {
    condition     = contains(["internal", "private"], var.availability)
    error_message = "availability must be internal or private."
  }
}

variable "idle_timeout" {
  description = "How long an idle workload stays up: a duration such as 30s, 5m or 1h30m, longer than zero."
  type        = string
  default     = "5m"
  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$", var.idle_timeout))
    error_message = "idle_timeout must be a duration such as 30s, 5m or 1h30m."
  }
}

variable "runner_labels" {
  description = "Labels a runner must carry to run this agent."
  type        = map(string)
  default     = {}
}

variable "capabilities" {
  description = "What a runner must offer to run this agent, e.g. docker."
  type        = list(string)
  default     = []
}

variable "resources" {
  description = "Compute requests and limits (Kubernetes quantities such as 500m, 2, 512Mi or 10Gi)."
  type = object({
    requests_cpu    = optional(string)
    requests_memory = optional(string)
    limits_cpu      = optional(string)
    limits_memory   = optional(string)
  })
  default = null
}

variable "env" {
  description = "Plain environment variables of the agent: name => value (write-only, never read back)."
  type        = map(string)
  default     = {}
  sensitive   = true
  validation {
    condition     = alltrue([for name in keys(var.env) : can(regex("^(?:[A-Za-z_][A-Za-z0-9_]*)$", name))])
    error_message = "env: each name must be an environment variable name: letters, digits and '_', not starting with a digit."
  }
}

variable "secret_envs" {
  description = "Environment variables of the agent taken from secrets: variable name => secret id."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for name in keys(var.secret_envs) : can(regex("^(?:[A-Za-z_][A-Za-z0-9_]*)$", name))])
    error_message = "secret_envs: each name must be an environment variable name: letters, digits and '_', not starting with a digit."
  }
}

variable "mcp_servers" {
  description = "MCP servers by name: the command that starts each, an optional image, plain env (readable), env from secrets (name => secret id), init scripts (name => script), volumes to mount (key => volume id) and compute resources."
  type = map(object({
    command      = string
    image        = optional(string)
    env          = optional(map(string), {})
    secret_envs  = optional(map(string), {})
    init_scripts = optional(map(string), {})
    volume_ids   = optional(map(string), {})
    resources = optional(object({
      requests_cpu    = optional(string)
      requests_memory = optional(string)
      limits_cpu      = optional(string)
      limits_memory   = optional(string)
    }))
  }))
  default = {}
  validation {
    condition     = alltrue([for name in keys(var.mcp_servers) : can(regex("^(?:[a-z][a-z0-9_]{0,62})$", name))])
    error_message = "mcp_servers: each name: use 1 to 63 characters from a-z, 0-9 and '_', starting with a letter."
  }
  validation {
    condition = alltrue(flatten([for server in values(var.mcp_servers) : [
      for name in concat(keys(server.env), keys(server.secret_envs)) : can(regex("^(?:[A-Za-z_][A-Za-z0-9_]*)$", name))
    ]]))
    error_message = "mcp_servers: each env name must be an environment variable name: letters, digits and '_', not starting with a digit."
  }
}

variable "skills" {
  description = "Skills by name: the instructions and when they apply."
  type = map(object({
    body        = string
    description = optional(string)
  }))
  default = {}
  validation {
    condition     = alltrue([for name in keys(var.skills) : can(regex("^(?:[a-z0-9][a-z0-9-]{0,63})$", name))])
    error_message = "skills: each name: use 1 to 64 characters from a-z, 0-9 and '-', starting with a letter or digit."
  }
}

variable "hooks" {
  description = "Hooks by a name you choose: the event that runs each, the function (command) and an optional image and env from secrets."
  type = map(object({
    event       = string
    function    = string
    image       = optional(string)
    secret_envs = optional(map(string), {})
  }))
  default = {}
  validation {
    condition = alltrue([for hook in values(var.hooks) : contains(["workload.started", "workload.stopping", "message.received", "message.sent", "llm.before", "llm.after", "tool.before", "tool.after", "run.start", "run.end"], hook.event)])
    error_message = "hooks: each event must be one of workload.started, workload.stopping, message.received, message.sent, llm.before, llm.after, tool.before, tool.after, run.start, run.end."
  }
}

variable "init_scripts" {
  description = "Shell scripts run before the agent starts, by a name you choose (renaming one replaces it; reordering changes nothing)."
  type        = map(string)
  default     = {}
}

variable "volumes" {
  description = "Volumes of the organization this agent defines and mounts, by name. To share a volume between agents, define it once (agyn_volume) and pass its id in volume_ids."
  type = map(object({
    mount_path = string
    persistent = optional(bool, false)
    size       = optional(string)
    ttl        = optional(string)
  }))
  default = {}
  validation {
    condition     = alltrue([for name in keys(var.volumes) : can(regex("^(?:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$", name))])
    error_message = "volumes: each name: use 1 to 63 characters from a-z, 0-9 and '-', starting and ending with a letter or digit."
  }
  validation {
    condition     = alltrue([for volume in values(var.volumes) : !volume.persistent || volume.size != null])
    error_message = "volumes: size is required when persistent is true."
  }
}

variable "volume_ids" {
  description = "Existing volumes to mount, by a name you choose => volume id (e.g. a volume shared by several agents)."
  type        = map(string)
  default     = {}
}

variable "roles" {
  description = "Agent roles by a name you choose: the identity (a member of the organization) and owner, maintainer or participant. Keys are names, not ids, so the identities may be created in the same configuration."
  type = map(object({
    identity_id = string
    role        = optional(string, "participant")
  }))
  default = {}
  validation {
    condition     = alltrue([for role in values(var.roles) : contains(["owner", "maintainer", "participant"], role.role)])
    error_message = "roles: each role must be one of owner, maintainer, participant."
  }
}
