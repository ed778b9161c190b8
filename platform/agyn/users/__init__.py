"""Users: human identities (OIDC-provisioned or admin-created), profiles, cluster role, API tokens."""
