data "agyn_organization" "acme" {
  name = "acme"
}

# By name, in an organization.
data "agyn_volume" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "workspace"
}

output "volume_id" {
  value = data.agyn_volume.example.id
}
