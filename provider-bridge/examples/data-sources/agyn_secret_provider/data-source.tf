data "agyn_organization" "acme" {
  name = "acme"
}

# By name, in an organization.
data "agyn_secret_provider" "example" {
  organization_id = data.agyn_organization.acme.id
  name            = "vault"
}

output "secret_provider_id" {
  value = data.agyn_secret_provider.example.id
}
