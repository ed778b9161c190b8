terraform {
  required_version = ">= 1.3" # optional() attributes with defaults in variables.tf
  required_providers {
    agyn = {
      source  = "agynio/agyn"
      version = ">= 0.1.0"
    }
  }
}
