resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_secret_provider" "example" {
  organization_id = agyn_organization.acme.id
  name            = "vault"
  description     = "The team's Vault"
  type            = "vault"
  vault {
    address = "https://vault.example.com:8200"
    token   = "hvs.example-vault-token"
  }
}
