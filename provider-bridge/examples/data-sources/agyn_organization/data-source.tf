data "agyn_organization" "example" {
  name = "acme"
}

output "acme_id" {
  value = data.agyn_organization.example.id
}
