output "agent_id" {
  description = "The agent's id (also its identity id)."
  value       = agyn_agent.this.id
}

output "mcp_ids" {
  description = "MCP server ids by name."
  value       = { for name, mcp in agyn_mcp.this : name => mcp.id }
}

output "skill_ids" {
  description = "Skill ids by name."
  value       = { for name, skill in agyn_skill.this : name => skill.id }
}

output "hook_ids" {
  description = "Hook ids by the names given in hooks."
  value       = { for name, hook in agyn_hook.this : name => hook.id }
}

output "volume_ids" {
  description = "Ids of the volumes this agent defines, by name (pass them to another agent's volume_ids to share)."
  value       = { for name, volume in agyn_volume.this : name => volume.id }
}
