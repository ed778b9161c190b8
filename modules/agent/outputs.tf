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
