"""Test doubles that speak real protocols (an OpenID provider, ...)."""
