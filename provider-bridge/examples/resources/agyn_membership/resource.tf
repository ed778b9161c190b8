resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_user" "bob" {
  oidc_subject = "example|bob"
  username     = "bob"
}

resource "agyn_membership" "example" {
  organization_id = agyn_organization.acme.id
  identity_id     = agyn_user.bob.id
  role            = "member"
}
