resource "agyn_user" "example" {
  oidc_subject = "example|alice"
  username     = "alice"
  name         = "Alice Example"
  email        = "alice@example.com"
}
