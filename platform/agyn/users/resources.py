"""Users in the registry (their storage and endpoints are this module's own)."""

from agyn.identity.nicknames import NICKNAME, NICKNAME_MESSAGE
from agyn.kit.resources import REGISTRY, DataSource, Resource, enum, string

EMAIL = r"^$|^[^@\s]+@[^@\s]+$"

USER = REGISTRY.register(Resource(
    name="user",
    collection="users",
    description="A person, known by their OIDC subject; managed by cluster admins. The id is the identity id.",
    fields=(
        string("oidc_subject", "The `sub` of the user's tokens at the identity provider.", required=True,
               immutable=True, min_length=1, max_length=255, filterable=True),
        string("username", "Cluster-wide handle; derived from the profile when omitted.", derived=True,
               pattern=NICKNAME, pattern_message=NICKNAME_MESSAGE,
               filterable=True),
        string("name", "Display name.", max_length=200, default=""),
        string("email", "Email address.", max_length=320, default="", pattern=EMAIL,
               pattern_message="must be an email address like name@example.com, or empty"),
        string("photo_url", "Avatar URL.", max_length=2048, default=""),
        enum("cluster_role", "admin gives administrative access to the whole platform.", ("admin", "none"),
             default="none"),
    ),
    storage="custom",
    scope=None,
    data_source=DataSource(lookup=(), optional_lookup=("id", "username", "oidc_subject")),
))
