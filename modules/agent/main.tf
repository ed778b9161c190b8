locals {
  # every for_each key below is a name from the configuration, never an id, so the plan works when the
  # referenced objects (secrets, users, volumes) are created in the same configuration
  mcp_secret_envs = merge([for server, spec in var.mcp_servers : {
    for name, secret_id in spec.secret_envs : "${server}/${name}" => { server = server, name = name, secret_id = secret_id }
  }]...)
  mcp_init_scripts = merge([for server, spec in var.mcp_servers : {
    for name, script in spec.init_scripts : "${server}/${name}" => { server = server, script = script }
  }]...)
  mcp_volumes = merge([for server, spec in var.mcp_servers : {
    for key, volume_id in spec.volume_ids : "${server}/${key}" => { server = server, volume_id = volume_id }
  }]...)
  hook_secret_envs = merge([for hook, spec in var.hooks : {
    for name, secret_id in spec.secret_envs : "${hook}/${name}" => { hook = hook, name = name, secret_id = secret_id }
  }]...)
}

resource "agyn_agent" "this" {
  organization_id = var.organization_id
  name            = var.name
  nickname        = var.nickname
  role            = var.role
  model           = var.model_id
  image           = var.image
  init_image      = var.init_image
  availability    = var.availability
  idle_timeout    = var.idle_timeout
  configuration   = jsonencode(merge({ system_prompt = var.system_prompt }, var.configuration))
  runner_labels   = var.runner_labels
  capabilities    = var.capabilities

  dynamic "resources" {
    for_each = var.resources == null ? [] : [var.resources]
    content {
      requests_cpu    = resources.value.requests_cpu
      requests_memory = resources.value.requests_memory
      limits_cpu      = resources.value.limits_cpu
      limits_memory   = resources.value.limits_memory
    }
  }
}

resource "agyn_env" "value" {
  for_each = nonsensitive(toset(keys(var.env)))
  agent_id = agyn_agent.this.id
  name     = each.key
  value    = var.env[each.key]
}

resource "agyn_env" "secret" {
  for_each  = var.secret_envs
  agent_id  = agyn_agent.this.id
  name      = each.key
  secret_id = each.value
}

resource "agyn_init_script" "this" {
  for_each = var.init_scripts
  agent_id = agyn_agent.this.id
  script   = each.value
}

resource "agyn_mcp" "this" {
  for_each = var.mcp_servers
  agent_id = agyn_agent.this.id
  name     = each.key
  command  = each.value.command
  image    = each.value.image
  env      = each.value.env

  dynamic "resources" {
    for_each = each.value.resources == null ? [] : [each.value.resources]
    content {
      requests_cpu    = resources.value.requests_cpu
      requests_memory = resources.value.requests_memory
      limits_cpu      = resources.value.limits_cpu
      limits_memory   = resources.value.limits_memory
    }
  }
}

resource "agyn_env" "mcp_secret" {
  for_each  = local.mcp_secret_envs
  mcp_id    = agyn_mcp.this[each.value.server].id
  name      = each.value.name
  secret_id = each.value.secret_id
}

resource "agyn_init_script" "mcp" {
  for_each = local.mcp_init_scripts
  mcp_id   = agyn_mcp.this[each.value.server].id
  script   = each.value.script
}

resource "agyn_volume_attachment" "mcp" {
  for_each  = local.mcp_volumes
  mcp_id    = agyn_mcp.this[each.value.server].id
  volume_id = each.value.volume_id
}

resource "agyn_skill" "this" {
  for_each    = var.skills
  agent_id    = agyn_agent.this.id
  name        = each.key
  body        = each.value.body
  description = each.value.description
}

resource "agyn_hook" "this" {
  for_each = var.hooks
  agent_id = agyn_agent.this.id
  event    = each.value.event
  function = each.value.function
  image    = each.value.image
}

resource "agyn_env" "hook_secret" {
  for_each  = local.hook_secret_envs
  hook_id   = agyn_hook.this[each.value.hook].id
  name      = each.value.name
  secret_id = each.value.secret_id
}

resource "agyn_volume" "this" {
  for_each        = var.volumes
  organization_id = var.organization_id
  name            = each.key
  mount_path      = each.value.mount_path
  persistent      = each.value.persistent
  size            = each.value.size
  ttl             = each.value.ttl
}

resource "agyn_volume_attachment" "defined" {
  for_each  = var.volumes
  agent_id  = agyn_agent.this.id
  volume_id = agyn_volume.this[each.key].id
}

resource "agyn_volume_attachment" "existing" {
  for_each  = var.volume_ids
  agent_id  = agyn_agent.this.id
  volume_id = each.value
}

resource "agyn_agent_role" "this" {
  for_each    = var.roles
  agent_id    = agyn_agent.this.id
  identity_id = each.value.identity_id
  role        = each.value.role
}
