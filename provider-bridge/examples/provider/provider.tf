terraform {
  required_version = ">= 1.0"
  required_providers {
    agyn = { source = "agynio/agyn", version = "0.1.0" }
  }
}

# api_url and api_token default to AGYN_API_URL and AGYN_API_TOKEN.
provider "agyn" {
  api_url = "http://127.0.0.1:8080"
}
