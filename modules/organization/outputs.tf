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
  description = "Membership ids by identity id."
  value       = { for identity, membership in agyn_membership.member : identity => membership.id }
}
