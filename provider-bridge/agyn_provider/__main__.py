"""`python -m agyn_provider [--dev]`: serve the provider (see `agyn_provider.provider.main`)."""

from agyn_provider.provider import main

main()
