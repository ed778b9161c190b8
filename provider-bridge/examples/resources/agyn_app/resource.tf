resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_app" "example" {
  organization_id = agyn_organization.acme.id
  slug            = "reminders"
  name            = "Reminders"
  description     = "Follow-ups agents schedule"
  visibility      = "internal"
  permissions     = ["thread:create", "thread:write"]
}
