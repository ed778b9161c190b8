resource "agyn_organization" "example" {
  name = "acme"
}
