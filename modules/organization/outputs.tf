output "organization_id" {
  description = "The organization's id."
  value       = agyn_organization.this.id
}

output "llm_provider_id" {
  description = "The LLM provider's id, or null."
  value       = one(agyn_llm_provider.this[*].id)
}

output "model_ids" {
  description = "Model ids by platform model name."
  value       = { for name, model in agyn_model.this : name => model.id }
}

output "membership_ids" {
  description = "Membership ids by the names given in members."
  value       = { for name, membership in agyn_membership.member : name => membership.id }
}

output "member_ids" {
  description = "Identity ids by the names given in members, read from the memberships: what uses one (an agent role) waits until the identity is a member."
  value       = { for name, membership in agyn_membership.member : name => membership.identity_id }
}
