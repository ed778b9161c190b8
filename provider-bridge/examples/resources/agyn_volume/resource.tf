resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_volume" "example" {
  organization_id = agyn_organization.acme.id
  name            = "workspace"
  persistent      = true
  size            = "10Gi"
  mount_path      = "/workspace"
  ttl             = "24h"
}
