"""Authorization: ReBAC over the OpenFGA model in model.fga, embedded or on an OpenFGA server."""
