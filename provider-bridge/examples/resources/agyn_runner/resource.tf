resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_runner" "example" {
  organization_id = agyn_organization.acme.id
  name            = "gpu-pool"
  labels          = { zone = "eu-west", gpu = "a100" }
  capabilities    = ["docker", "gpu"]
}

# Give the runner its token (shown once, at creation).
output "runner_token" {
  value     = agyn_runner.example.service_token
  sensitive = true
}
