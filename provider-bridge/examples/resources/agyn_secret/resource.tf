resource "agyn_organization" "acme" {
  name = "acme"
}

# A value the platform stores, encrypted.
resource "agyn_secret" "example" {
  organization_id = agyn_organization.acme.id
  name            = "github-token"
  description     = "Token the agents push with"
  value           = "ghp_example-secret-value"
}

# A value read from Vault when it is used.
resource "agyn_secret_provider" "vault" {
  organization_id = agyn_organization.acme.id
  name            = "vault"
  type            = "vault"
  vault {
    address = "https://vault.example.com:8200"
    token   = "hvs.example-vault-token"
  }
}

resource "agyn_secret" "from_vault" {
  organization_id = agyn_organization.acme.id
  name            = "openai-key"
  provider_id     = agyn_secret_provider.vault.id
  reference       = "secret/llm/openai"
}
