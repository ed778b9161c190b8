resource "agyn_organization" "this" {
  name = var.name

  lifecycle {
    precondition {
      condition     = var.llm_provider != null || length(var.models) == 0
      error_message = "models need an llm_provider to serve them: set llm_provider, or leave models empty."
    }
  }
}

resource "agyn_membership" "member" {
  for_each        = var.members
  organization_id = agyn_organization.this.id
  identity_id     = each.value.identity_id
  role            = each.value.role
}

resource "agyn_llm_provider" "this" {
  count           = var.llm_provider == null ? 0 : 1
  organization_id = agyn_organization.this.id
  name            = var.llm_provider.name
  endpoint        = var.llm_provider.endpoint
  protocol        = var.llm_provider.protocol
  auth_method     = var.llm_provider.auth_method
  token           = var.llm_provider_token
  headers         = var.llm_provider_headers
}

resource "agyn_model" "this" {
  for_each        = var.llm_provider == null ? {} : var.models
  organization_id = agyn_organization.this.id
  name            = each.key
  llm_provider_id = agyn_llm_provider.this[0].id
  remote_name     = each.value
}
