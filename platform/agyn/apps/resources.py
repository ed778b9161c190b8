"""Apps and their installations, as declared once for the API, Terraform and the CDK."""

from agyn.identity.nicknames import NICKNAME, NICKNAME_MESSAGE
from agyn.kit.resources import (
    REGISTRY,
    Resource,
    enum,
    json_object,
    organization_id,
    reference,
    string,
    string_list,
)

# each permission an app declares becomes this relation of the app on every organization it is installed in
PERMISSION_RELATIONS = {
    "thread:create": "thread_create",
    "thread:write": "thread_write",
    "participant:add": "participant_add",
}

APP = REGISTRY.register(Resource(
    name="app",
    collection="apps",
    description="A service that acts on threads for an external system, defined by an organization and installed "
                "into organizations. The app is an identity (its id is its identity id) that authenticates with "
                "its service token.",
    fields=(
        organization_id("The organization that defines it."),
        string("slug", "Cluster-wide unique handle, e.g. telegram; the default @nickname of its installations.",
               required=True, immutable=True, max_length=63, pattern=r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
               pattern_message="use 1 to 63 characters from a-z, 0-9 and '-', starting and ending with a letter "
                               "or digit", filterable=True),
        string("name", "Display name.", required=True, min_length=1, max_length=100),
        string("description", "What it does, for people choosing to install it.", max_length=2000),
        enum("visibility", "public: any organization may install it; internal: only its own organization.",
             ("public", "internal"), default="internal", filterable=True),
        string_list("permissions", "What it may do in the organizations it is installed in: thread:create, "
                    "thread:write (send to any thread), participant:add.", immutable=True, default=[],
                    choices=tuple(PERMISSION_RELATIONS)),
        string("service_token", "The app's API token. Returned only when the app is created; store it then.",
               computed=True, sensitive=True, once=True),
    ),
    unique_together=(("slug",),),
))

APP_INSTALLATION = REGISTRY.register(Resource(
    name="app_installation",
    collection="app-installations",
    description="An app installed into an organization: its @nickname and configuration there. Installing grants "
                "the app its declared permissions there (it takes part in threads, but is not a member: it does "
                "not see the organization's other resources); uninstalling takes them back.",
    fields=(
        reference("app_id", "apps", "The app (public, or the installing organization's own).", required=True,
                  immutable=True, filterable=True, same_organization=False),
        organization_id("The organization it is installed into."),
        string("slug", "The app's @nickname in the organization; the app's slug when omitted.", derived=True,
               max_length=32, pattern=NICKNAME, pattern_message=NICKNAME_MESSAGE,
               filterable=True),
        json_object("configuration", "The app's settings for this organization (a JSON object).", default={}),
    ),
    unique_together=(("organization_id", "app_id"),),
))
