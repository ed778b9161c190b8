terraform {
  required_version = ">= 1.0"
  required_providers {
    agyn = {
      source  = "agynio/agyn"
      version = ">= 0.1.0"
    }
  }
}
