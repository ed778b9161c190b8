resource "agyn_agent" "this" {
  organization_id = var.organization_id
  name            = var.name
  nickname        = var.nickname
  role            = var.role
  model           = var.model_id
  image           = var.image
  availability    = var.availability
  idle_timeout    = var.idle_timeout
  configuration   = jsonencode(merge({ system_prompt = var.system_prompt }, var.configuration))
}

resource "agyn_mcp" "this" {
  for_each = var.mcp_servers
  agent_id = agyn_agent.this.id
  name     = each.key
  command  = each.value.command
  image    = each.value.image
  env      = each.value.env
}

resource "agyn_skill" "this" {
  for_each    = var.skills
  agent_id    = agyn_agent.this.id
  name        = each.key
  body        = each.value.body
  description = each.value.description
}

resource "agyn_env" "secret" {
  for_each  = var.secret_envs
  agent_id  = agyn_agent.this.id
  name      = each.key
  secret_id = each.value
}

resource "agyn_init_script" "this" {
  count    = length(var.init_scripts)
  agent_id = agyn_agent.this.id
  script   = var.init_scripts[count.index]
}

resource "agyn_agent_role" "this" {
  for_each    = var.roles
  agent_id    = agyn_agent.this.id
  identity_id = each.key
  role        = each.value
}
