# Set organization_id too when several runners you can see share the name.
data "agyn_runner" "example" {
  name = "gpu-pool"
}

output "runner_labels" {
  value = data.agyn_runner.example.labels
}
