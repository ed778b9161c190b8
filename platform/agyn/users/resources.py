"""Users in the registry (their storage and endpoints are this module's own)."""

from agyn.kit.resources import REGISTRY, DataSource, Resource, enum, string

USER = REGISTRY.register(Resource(
    name="user",
    collection="users",
    description="A person, known by their OIDC subject; managed by cluster admins. The id is the identity id.",
    fields=(
        string("oidc_subject", "The `sub` of the user's tokens at the identity provider.", required=True,
               immutable=True, min_length=1, max_length=255, filterable=True),
        string("username", "Cluster-wide handle; derived from the profile when omitted.", derived=True,
               pattern=r"[a-z0-9_-]{1,32}", pattern_message="use 1 to 32 characters from a-z, 0-9, '_' and '-'",
               filterable=True),
        string("name", "Display name.", max_length=200, default=""),
        string("email", "Email address.", max_length=320, default=""),
        string("photo_url", "Avatar URL.", max_length=2048, default=""),
        enum("cluster_role", "admin gives administrative access to the whole platform.", ("admin", "none"),
             default="none"),
    ),
    storage="custom",
    owner="custom",
    data_source=DataSource(lookup=(), optional_lookup=("id", "username", "oidc_subject")),
))
