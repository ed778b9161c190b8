"""The `agyn` command line."""
