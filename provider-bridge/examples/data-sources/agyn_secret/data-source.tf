data "agyn_organization" "acme" {
  name = "acme"
}

# By name, in an organization.
data "agyn_secret" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "github-token"
}

output "secret_id" {
  value = data.agyn_secret.example.id
}
