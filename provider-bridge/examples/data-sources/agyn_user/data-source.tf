# By username, oidc_subject or id.
data "agyn_user" "example" {
  username = "alice"
}

output "alice_id" {
  value = data.agyn_user.example.id
}
