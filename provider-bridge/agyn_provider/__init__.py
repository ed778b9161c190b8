"""The Terraform provider `agyn` (source `agynio/agyn`), generated from the platform resource registry."""
