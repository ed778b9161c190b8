"""L1 constructs: one class per resource and data source of the Terraform provider `agyn`
(source `agynio/agyn`), and the provider itself.

GENERATED from the platform's resource registry by `python cdk/codegen.py`: do not edit.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import constructs

from agyn_cdk.base import AgynDataSource, AgynProviderBase, AgynResource, json_document
from agyn_cdk.framework import cdk

PROVIDER_VERSION = "0.1.0"
"""The provider version these classes are generated for (and that they require)."""


class AgynProvider(AgynProviderBase):
    """The `agyn` provider (source `agynio/agyn`): which platform to talk to, as whom.

    Without arguments it reads `AGYN_API_URL` and `AGYN_API_TOKEN` when Terraform runs.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        api_url: str | None = None,
        api_token: str | None = None,
        alias: str | None = None,
    ) -> None:
        """Declares the provider configuration `<id_>`.

        Args:
            api_url: Base URL of the Agyn API, e.g. `http://127.0.0.1:8080`. Default: `$AGYN_API_URL`.
            api_token: An Agyn API token (`agyn_...`). Default: `$AGYN_API_TOKEN`.
            alias: Names this configuration when a stack has several.
        """
        super().__init__(scope, id_, PROVIDER_VERSION, {
            "api_url": api_url,
            "api_token": api_token,
        }, alias=alias)


@dataclass(frozen=True, kw_only=True)
class AgynAgentResources:
    """Compute requests and limits of the container (Kubernetes quantities). The value of
    `agyn_agent.resources`.
    """

    requests_cpu: str | None = None
    """CPU requested, e.g. 250m. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    requests_memory: str | None = None
    """Memory requested, e.g. 256Mi. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    limits_cpu: str | None = None
    """CPU limit, e.g. 2. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    limits_memory: str | None = None
    """Memory limit, e.g. 2Gi. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """


class AgynAgent(AgynResource):
    """An agent: who it is (name, @nickname, role), the model it thinks with, where and how it runs, and who may
    start conversations with it. Its id is its identity id.

    The Terraform resource `agyn_agent`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        role: str,
        model: str,
        availability: typing.Literal["internal", "private"],
        nickname: str | None = None,
        image: str | None = None,
        init_image: str | None = None,
        configuration: typing.Mapping[str, typing.Any] | str | None = None,
        idle_timeout: str | None = None,
        runner_labels: typing.Mapping[str, str] | None = None,
        capabilities: typing.Sequence[str] | None = None,
        resources: AgynAgentResources | typing.Mapping[str, typing.Any] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_agent.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            name: A name for people; unique in the organization. 1 to 64 characters.
            role: What it does, e.g. assistant or reviewer; told to the agent at run time. 1 to 64 characters.
            model: The id of the model it uses (an `agyn_model` of its organization, e.g. `agyn_model.gpt.id`),
                not the model's name. An id (a UUID), such as another resource's `id`, not a name.
            availability: internal: every member of the organization may start conversations with it; private:
                only those with a role on it. One of `internal`, `private`.
            nickname: The @handle people mention it by; unique among the organization's identities (users
                included). At most 32 characters. Must match `[a-z0-9_-]{1,32}`: use 1 to 32 characters from
                a-z, 0-9, '_' and '-'.
            image: Container image the agent runs in. At most 1024 characters.
            init_image: Container image that prepares the workload before the agent starts. At most 1024
                characters.
            configuration: Configuration for the agent runtime, e.g. {"system_prompt": "..."}. A JSON object
                (use `jsonencode`); compared by value, not by spelling. Default `{}`. Here: a dict, which is
                encoded, or a JSON string.
            idle_timeout: How long a workload may stay idle before it is stopped. A duration such as `"30s"`,
                `"5m"` or `"1h30m"`, longer than zero. Default `"5m0s"`.
            runner_labels: Labels a runner must carry to run this agent. Default `{}`.
            capabilities: What a runner must offer to run this agent, e.g. docker. Default `[]`.
            resources: Compute requests and limits of the container (Kubernetes quantities).
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_agent", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
            "role": role,
            "model": model,
            "availability": availability,
            "nickname": nickname,
            "image": image,
            "init_image": init_image,
            "configuration": json_document(configuration),
            "idle_timeout": idle_timeout,
            "runner_labels": runner_labels,
            "capabilities": capabilities,
            "resources": resources,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization. 1 to 64 characters."""
        return self.get_string_attribute("name")

    @property
    def nickname(self) -> str:
        """The @handle people mention it by; unique among the organization's identities (users included). At
        most 32 characters. Must match `[a-z0-9_-]{1,32}`: use 1 to 32 characters from a-z, 0-9, '_' and '-'.
        """
        return self.get_string_attribute("nickname")

    @property
    def role(self) -> str:
        """What it does, e.g. assistant or reviewer; told to the agent at run time. 1 to 64 characters."""
        return self.get_string_attribute("role")

    @property
    def model(self) -> str:
        """The id of the model it uses (an `agyn_model` of its organization, e.g. `agyn_model.gpt.id`), not the
        model's name. An id (a UUID), such as another resource's `id`, not a name.
        """
        return self.get_string_attribute("model")

    @property
    def image(self) -> str:
        """Container image the agent runs in. At most 1024 characters."""
        return self.get_string_attribute("image")

    @property
    def init_image(self) -> str:
        """Container image that prepares the workload before the agent starts. At most 1024 characters."""
        return self.get_string_attribute("init_image")

    @property
    def configuration(self) -> str:
        """Configuration for the agent runtime, e.g. {"system_prompt": "..."}. A JSON object (use `jsonencode`);
        compared by value, not by spelling. Default `{}`.
        """
        return self.get_string_attribute("configuration")

    @property
    def idle_timeout(self) -> str:
        """How long a workload may stay idle before it is stopped. A duration such as `"30s"`, `"5m"` or
        `"1h30m"`, longer than zero. Default `"5m0s"`.
        """
        return self.get_string_attribute("idle_timeout")

    @property
    def runner_labels(self) -> typing.Mapping[str, str]:
        """Labels a runner must carry to run this agent. Default `{}`."""
        return self.get_string_map_attribute("runner_labels")

    @property
    def capabilities(self) -> list[str]:
        """What a runner must offer to run this agent, e.g. docker. Default `[]`."""
        return self.get_list_attribute("capabilities")

    @property
    def availability(self) -> str:
        """internal: every member of the organization may start conversations with it; private: only those with
        a role on it. One of `internal`, `private`.
        """
        return self.get_string_attribute("availability")

    @property
    def resources(self) -> cdk.IResolvable:
        """Compute requests and limits of the container (Kubernetes quantities)."""
        return self.interpolation_for_attribute("resources")


class AgynAgentRole(AgynResource):
    """An identity's role on an agent: owner (everything), maintainer (configuration) or participant (may start
    conversations). One role per identity; the id is `<agent_id>:<identity_id>`.

    The Terraform resource `agyn_agent_role`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        agent_id: str,
        identity_id: str,
        role: typing.Literal["owner", "maintainer", "participant"],
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_agent_role.<id_>`.

        Args:
            agent_id: The agent. An id (a UUID), such as another resource's `id`, not a name. Changing it
                replaces the object.
            identity_id: Who gets the role: an active member of the agent's organization. An id (a UUID), such
                as another resource's `id`, not a name. Changing it replaces the object.
            role: owner, maintainer or participant. One of `owner`, `maintainer`, `participant`.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_agent_role", PROVIDER_VERSION, {
            "agent_id": agent_id,
            "identity_id": identity_id,
            "role": role,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent. An id (a UUID), such as another resource's `id`, not a name. Changing it replaces the
        object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def identity_id(self) -> str:
        """Who gets the role: an active member of the agent's organization. An id (a UUID), such as another
        resource's `id`, not a name. Changing it replaces the object.
        """
        return self.get_string_attribute("identity_id")

    @property
    def role(self) -> str:
        """owner, maintainer or participant. One of `owner`, `maintainer`, `participant`."""
        return self.get_string_attribute("role")


class AgynApp(AgynResource):
    """A service that acts on threads for an external system, defined by an organization and installed into
    organizations. The app is an identity (its id is its identity id) that authenticates with its service token.

    The Terraform resource `agyn_app`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        slug: str,
        name: str,
        description: str | None = None,
        visibility: typing.Literal["public", "internal"] | None = None,
        permissions: typing.Sequence[typing.Literal["thread:create", "thread:write", "participant:add"]] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_app.<id_>`.

        Args:
            organization_id: The organization that defines it. An id (a UUID), such as another resource's `id`,
                not a name. Changing it replaces the object.
            slug: Cluster-wide unique handle, e.g. telegram; the default @nickname of its installations. At most
                63 characters. Must match `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`: use 1 to 63 characters from a-z,
                0-9 and '-', starting and ending with a letter or digit. Changing it replaces the object.
            name: Display name. 1 to 100 characters.
            description: What it does, for people choosing to install it. At most 2000 characters.
            visibility: public: any organization may install it; internal: only its own organization. One of
                `public`, `internal`. Default `"internal"`.
            permissions: What it may do in the organizations it is installed in: thread:create, thread:write
                (send to any thread), participant:add. Each item one of `thread:create`, `thread:write`,
                `participant:add`. Default `[]`. Changing it replaces the object.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_app", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "slug": slug,
            "name": name,
            "description": description,
            "visibility": visibility,
            "permissions": permissions,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that defines it. An id (a UUID), such as another resource's `id`, not a name.
        Changing it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def slug(self) -> str:
        """Cluster-wide unique handle, e.g. telegram; the default @nickname of its installations. At most 63
        characters. Must match `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`: use 1 to 63 characters from a-z, 0-9 and
        '-', starting and ending with a letter or digit. Changing it replaces the object.
        """
        return self.get_string_attribute("slug")

    @property
    def name(self) -> str:
        """Display name. 1 to 100 characters."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it does, for people choosing to install it. At most 2000 characters."""
        return self.get_string_attribute("description")

    @property
    def visibility(self) -> str:
        """public: any organization may install it; internal: only its own organization. One of `public`,
        `internal`. Default `"internal"`.
        """
        return self.get_string_attribute("visibility")

    @property
    def permissions(self) -> list[str]:
        """What it may do in the organizations it is installed in: thread:create, thread:write (send to any
        thread), participant:add. Each item one of `thread:create`, `thread:write`, `participant:add`. Default
        `[]`. Changing it replaces the object.
        """
        return self.get_list_attribute("permissions")

    @property
    def service_token(self) -> str:
        """The app's API token. Returned only when the app is created; store it then."""
        return self.get_string_attribute("service_token")


class AgynAppInstallation(AgynResource):
    """An app installed into an organization: its @nickname and configuration there. Installing grants the app
    its declared permissions there (it takes part in threads, but is not a member: it does not see the
    organization's other resources); uninstalling takes them back.

    The Terraform resource `agyn_app_installation`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        app_id: str,
        organization_id: str,
        slug: str | None = None,
        configuration: typing.Mapping[str, typing.Any] | str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_app_installation.<id_>`.

        Args:
            app_id: The app (public, or the installing organization's own). An id (a UUID), such as another
                resource's `id`, not a name. Changing it replaces the object.
            organization_id: The organization it is installed into. An id (a UUID), such as another resource's
                `id`, not a name. Changing it replaces the object.
            slug: The app's @nickname in the organization; the app's slug when omitted. At most 32 characters.
                Must match `[a-z0-9_-]{1,32}`: use 1 to 32 characters from a-z, 0-9, '_' and '-'.
            configuration: The app's settings for this organization (a JSON object). A JSON object (use
                `jsonencode`); compared by value, not by spelling. Default `{}`. Here: a dict, which is encoded,
                or a JSON string.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_app_installation", PROVIDER_VERSION, {
            "app_id": app_id,
            "organization_id": organization_id,
            "slug": slug,
            "configuration": json_document(configuration),
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def app_id(self) -> str:
        """The app (public, or the installing organization's own). An id (a UUID), such as another resource's
        `id`, not a name. Changing it replaces the object.
        """
        return self.get_string_attribute("app_id")

    @property
    def organization_id(self) -> str:
        """The organization it is installed into. An id (a UUID), such as another resource's `id`, not a name.
        Changing it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def slug(self) -> str:
        """The app's @nickname in the organization; the app's slug when omitted. At most 32 characters. Must
        match `[a-z0-9_-]{1,32}`: use 1 to 32 characters from a-z, 0-9, '_' and '-'.
        """
        return self.get_string_attribute("slug")

    @property
    def configuration(self) -> str:
        """The app's settings for this organization (a JSON object). A JSON object (use `jsonencode`); compared
        by value, not by spelling. Default `{}`.
        """
        return self.get_string_attribute("configuration")


class AgynEnv(AgynResource):
    """An environment variable of an agent, an MCP server or a hook: a value (write-only) or a secret, resolved
    when the workload starts.

    The Terraform resource `agyn_env`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        name: str,
        agent_id: str | None = None,
        mcp_id: str | None = None,
        hook_id: str | None = None,
        value: str | None = None,
        secret_id: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_env.<id_>`.

        Args:
            name: The variable's name; unique per agent, MCP server or hook. At most 255 characters. Must match
                `[A-Za-z_][A-Za-z0-9_]*`: must be an environment variable name: letters, digits and '_', not
                starting with a digit.
            agent_id: The agent that gets it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            mcp_id: The MCP server that gets it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            hook_id: The hook that gets it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            value: The value. At most 65536 characters. Write-only: the API never returns it, so Terraform keeps
                the value it last sent.
            secret_id: A secret of the organization that holds the value. An id (a UUID), such as another
                resource's `id`, not a name.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_env", PROVIDER_VERSION, {
            "name": name,
            "agent_id": agent_id,
            "mcp_id": mcp_id,
            "hook_id": hook_id,
            "value": value,
            "secret_id": secret_id,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent that gets it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def mcp_id(self) -> str:
        """The MCP server that gets it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("mcp_id")

    @property
    def hook_id(self) -> str:
        """The hook that gets it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("hook_id")

    @property
    def name(self) -> str:
        """The variable's name; unique per agent, MCP server or hook. At most 255 characters. Must match
        `[A-Za-z_][A-Za-z0-9_]*`: must be an environment variable name: letters, digits and '_', not starting
        with a digit.
        """
        return self.get_string_attribute("name")

    @property
    def value(self) -> str:
        """The value. At most 65536 characters. Write-only: the API never returns it, so Terraform keeps the
        value it last sent.
        """
        return self.get_string_attribute("value")

    @property
    def secret_id(self) -> str:
        """A secret of the organization that holds the value. An id (a UUID), such as another resource's `id`,
        not a name.
        """
        return self.get_string_attribute("secret_id")


class AgynHook(AgynResource):
    """A function run when something happens in the agent's workload.

    The Terraform resource `agyn_hook`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        agent_id: str,
        event: typing.Literal[
            "workload.started",
            "workload.stopping",
            "message.received",
            "message.sent",
            "llm.before",
            "llm.after",
            "tool.before",
            "tool.after",
            "run.start",
            "run.end",
        ],
        function: str,
        image: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_hook.<id_>`.

        Args:
            agent_id: The agent it belongs to. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            event: The event that runs it. One of `workload.started`, `workload.stopping`, `message.received`,
                `message.sent`, `llm.before`, `llm.after`, `tool.before`, `tool.after`, `run.start`, `run.end`.
                At most 100 characters.
            function: What runs: the function (command) invoked with the event. 1 to 4096 characters.
            image: Container image it runs in. At most 1024 characters.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_hook", PROVIDER_VERSION, {
            "agent_id": agent_id,
            "event": event,
            "function": function,
            "image": image,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent it belongs to. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def event(self) -> str:
        """The event that runs it. One of `workload.started`, `workload.stopping`, `message.received`,
        `message.sent`, `llm.before`, `llm.after`, `tool.before`, `tool.after`, `run.start`, `run.end`. At most
        100 characters.
        """
        return self.get_string_attribute("event")

    @property
    def function(self) -> str:
        """What runs: the function (command) invoked with the event. 1 to 4096 characters."""
        return self.get_string_attribute("function")

    @property
    def image(self) -> str:
        """Container image it runs in. At most 1024 characters."""
        return self.get_string_attribute("image")


class AgynInitScript(AgynResource):
    """A shell script run in the workload before the agent or MCP server starts.

    The Terraform resource `agyn_init_script`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        script: str,
        agent_id: str | None = None,
        mcp_id: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_init_script.<id_>`.

        Args:
            script: The shell script. 1 to 262144 characters.
            agent_id: The agent it prepares. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            mcp_id: The MCP server it prepares. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_init_script", PROVIDER_VERSION, {
            "script": script,
            "agent_id": agent_id,
            "mcp_id": mcp_id,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent it prepares. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def mcp_id(self) -> str:
        """The MCP server it prepares. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("mcp_id")

    @property
    def script(self) -> str:
        """The shell script. 1 to 262144 characters."""
        return self.get_string_attribute("script")


class AgynLlmProvider(AgynResource):
    """An upstream LLM provider: endpoint, protocol and credentials (encrypted at rest, write-only).

    The Terraform resource `agyn_llm_provider`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        endpoint: str,
        auth_method: typing.Literal["bearer", "x_api_key", "custom_headers"],
        name: str | None = None,
        protocol: typing.Literal["responses", "anthropic_messages"] | None = None,
        token: str | None = None,
        headers: typing.Mapping[str, str] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_llm_provider.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            endpoint: Base URL of the provider's API, e.g. https://api.openai.com/v1. At most 2048 characters.
                Must match `https?://[^\\s/$.?#][^\\s]*`: must be an http(s) URL such as https://example.com.
            auth_method: How requests authenticate: a bearer token, an x-api-key header, or custom headers. One
                of `bearer`, `x_api_key`, `custom_headers`.
            name: A name for people; unique in the organization when set. At most 100 characters.
            protocol: Wire protocol the provider speaks. One of `responses`, `anthropic_messages`. Default
                `"responses"`.
            token: The API key or token (bearer and x_api_key). At most 4096 characters. Write-only: the API
                never returns it, so Terraform keeps the value it last sent.
            headers: Headers sent with every request (custom_headers). Write-only: the API never returns it, so
                Terraform keeps the value it last sent.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_llm_provider", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "endpoint": endpoint,
            "auth_method": auth_method,
            "name": name,
            "protocol": protocol,
            "token": token,
            "headers": headers,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization when set. At most 100 characters."""
        return self.get_string_attribute("name")

    @property
    def endpoint(self) -> str:
        """Base URL of the provider's API, e.g. https://api.openai.com/v1. At most 2048 characters. Must match
        `https?://[^\\s/$.?#][^\\s]*`: must be an http(s) URL such as https://example.com.
        """
        return self.get_string_attribute("endpoint")

    @property
    def protocol(self) -> str:
        """Wire protocol the provider speaks. One of `responses`, `anthropic_messages`. Default `"responses"`.
        """
        return self.get_string_attribute("protocol")

    @property
    def auth_method(self) -> str:
        """How requests authenticate: a bearer token, an x-api-key header, or custom headers. One of `bearer`,
        `x_api_key`, `custom_headers`.
        """
        return self.get_string_attribute("auth_method")

    @property
    def token(self) -> str:
        """The API key or token (bearer and x_api_key). At most 4096 characters. Write-only: the API never
        returns it, so Terraform keeps the value it last sent.
        """
        return self.get_string_attribute("token")

    @property
    def headers(self) -> typing.Mapping[str, str]:
        """Headers sent with every request (custom_headers). Write-only: the API never returns it, so Terraform
        keeps the value it last sent.
        """
        return self.get_string_map_attribute("headers")


@dataclass(frozen=True, kw_only=True)
class AgynMcpResources:
    """Compute requests and limits of the container (Kubernetes quantities). The value of `agyn_mcp.resources`.
    """

    requests_cpu: str | None = None
    """CPU requested, e.g. 250m. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    requests_memory: str | None = None
    """Memory requested, e.g. 256Mi. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    limits_cpu: str | None = None
    """CPU limit, e.g. 2. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """
    limits_memory: str | None = None
    """Memory limit, e.g. 2Gi. At most 64 characters. Must match
    `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
    quantity, e.g. 500m, 2, 512Mi or 10Gi.
    """


class AgynMcp(AgynResource):
    """An MCP server the agent's tools come from, run next to the agent.

    The Terraform resource `agyn_mcp`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        agent_id: str,
        name: str,
        command: str,
        image: str | None = None,
        env: typing.Mapping[str, str] | None = None,
        resources: AgynMcpResources | typing.Mapping[str, typing.Any] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_mcp.<id_>`.

        Args:
            agent_id: The agent it serves. An id (a UUID), such as another resource's `id`, not a name. Changing
                it replaces the object.
            name: Unique per agent; prefixes its tools' names. At most 63 characters. Must match
                `[a-z][a-z0-9_]{0,62}`: use 1 to 63 characters from a-z, 0-9 and '_', starting with a letter.
            command: Command that starts the server. 1 to 4096 characters.
            image: Container image the server runs in. At most 1024 characters.
            env: Plain environment variables of the server (use envs for secrets). Each key must match
                `[A-Za-z_][A-Za-z0-9_]*`: must be an environment variable name: letters, digits and '_', not
                starting with a digit. Default `{}`.
            resources: Compute requests and limits of the container (Kubernetes quantities).
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_mcp", PROVIDER_VERSION, {
            "agent_id": agent_id,
            "name": name,
            "command": command,
            "image": image,
            "env": env,
            "resources": resources,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent it serves. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def name(self) -> str:
        """Unique per agent; prefixes its tools' names. At most 63 characters. Must match
        `[a-z][a-z0-9_]{0,62}`: use 1 to 63 characters from a-z, 0-9 and '_', starting with a letter.
        """
        return self.get_string_attribute("name")

    @property
    def image(self) -> str:
        """Container image the server runs in. At most 1024 characters."""
        return self.get_string_attribute("image")

    @property
    def command(self) -> str:
        """Command that starts the server. 1 to 4096 characters."""
        return self.get_string_attribute("command")

    @property
    def env(self) -> typing.Mapping[str, str]:
        """Plain environment variables of the server (use envs for secrets). Each key must match
        `[A-Za-z_][A-Za-z0-9_]*`: must be an environment variable name: letters, digits and '_', not starting
        with a digit. Default `{}`.
        """
        return self.get_string_map_attribute("env")

    @property
    def resources(self) -> cdk.IResolvable:
        """Compute requests and limits of the container (Kubernetes quantities)."""
        return self.interpolation_for_attribute("resources")


class AgynMembership(AgynResource):
    """An identity's role in an organization. A cluster admin's grant is active at once; an owner's is an
    invitation, pending until the invitee accepts.

    The Terraform resource `agyn_membership`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        identity_id: str,
        role: typing.Literal["owner", "member"] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_membership.<id_>`.

        Args:
            organization_id: The organization. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            identity_id: The member's identity (user, agent, app). An id (a UUID), such as another resource's
                `id`, not a name. Changing it replaces the object.
            role: owner or member. One of `owner`, `member`. Default `"member"`.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_membership", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "identity_id": identity_id,
            "role": role,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization. An id (a UUID), such as another resource's `id`, not a name. Changing it replaces
        the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def identity_id(self) -> str:
        """The member's identity (user, agent, app). An id (a UUID), such as another resource's `id`, not a
        name. Changing it replaces the object.
        """
        return self.get_string_attribute("identity_id")

    @property
    def role(self) -> str:
        """owner or member. One of `owner`, `member`. Default `"member"`."""
        return self.get_string_attribute("role")

    @property
    def status(self) -> str:
        """pending until the invitee accepts; active after."""
        return self.get_string_attribute("status")


class AgynModel(AgynResource):
    """A platform model name mapped to a provider and the provider's own model name.

    The Terraform resource `agyn_model`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        llm_provider_id: str,
        remote_name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_model.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            name: The name agents and clients use, e.g. gpt-4o; unique in the organization. 1 to 100 characters.
                Must match `[A-Za-z0-9][A-Za-z0-9._:/-]*`: use letters, digits and . _ : / - (starting with a
                letter or digit).
            llm_provider_id: The provider that serves it. An id (a UUID), such as another resource's `id`, not a
                name. Changing it replaces the object.
            remote_name: The model's name at the provider, e.g. gpt-4o-2024-08-06. 1 to 200 characters.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_model", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
            "llm_provider_id": llm_provider_id,
            "remote_name": remote_name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """The name agents and clients use, e.g. gpt-4o; unique in the organization. 1 to 100 characters. Must
        match `[A-Za-z0-9][A-Za-z0-9._:/-]*`: use letters, digits and . _ : / - (starting with a letter or
        digit).
        """
        return self.get_string_attribute("name")

    @property
    def llm_provider_id(self) -> str:
        """The provider that serves it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("llm_provider_id")

    @property
    def remote_name(self) -> str:
        """The model's name at the provider, e.g. gpt-4o-2024-08-06. 1 to 200 characters."""
        return self.get_string_attribute("remote_name")


class AgynOrganization(AgynResource):
    """An organization: the tenancy boundary that owns members, agents, models, secrets and apps.

    The Terraform resource `agyn_organization`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_organization.<id_>`.

        Args:
            name: Unique name of the organization. 1 to 100 characters.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_organization", PROVIDER_VERSION, {
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def name(self) -> str:
        """Unique name of the organization. 1 to 100 characters."""
        return self.get_string_attribute("name")


class AgynRunner(AgynResource):
    """A place where agent workloads run: cluster-wide, or one organization's own. The runner is an identity
    (its id is its identity id) that authenticates with its service token.

    The Terraform resource `agyn_runner`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        name: str,
        organization_id: str | None = None,
        labels: typing.Mapping[str, str] | None = None,
        capabilities: typing.Sequence[str] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_runner.<id_>`.

        Args:
            name: A name for people; unique among the organization's (or the cluster-wide) runners. 1 to 100
                characters.
            organization_id: The organization it serves; omit for a cluster-wide runner (cluster admins only).
                An id (a UUID), such as another resource's `id`, not a name. Changing it replaces the object.
            labels: Labels agents select runners by (an agent's runner_labels must all match). Default `{}`.
            capabilities: What it offers, e.g. docker or gpu (an agent's capabilities must all be offered).
                Default `[]`.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_runner", PROVIDER_VERSION, {
            "name": name,
            "organization_id": organization_id,
            "labels": labels,
            "capabilities": capabilities,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization it serves; omit for a cluster-wide runner (cluster admins only). An id (a UUID),
        such as another resource's `id`, not a name. Changing it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique among the organization's (or the cluster-wide) runners. 1 to 100
        characters.
        """
        return self.get_string_attribute("name")

    @property
    def labels(self) -> typing.Mapping[str, str]:
        """Labels agents select runners by (an agent's runner_labels must all match). Default `{}`."""
        return self.get_string_map_attribute("labels")

    @property
    def capabilities(self) -> list[str]:
        """What it offers, e.g. docker or gpu (an agent's capabilities must all be offered). Default `[]`."""
        return self.get_list_attribute("capabilities")

    @property
    def service_token(self) -> str:
        """The runner's API token. Returned only when the runner is created; store it then."""
        return self.get_string_attribute("service_token")


class AgynSecret(AgynResource):
    """A secret value: stored encrypted by the platform, or read from a secret provider when used.

    The Terraform resource `agyn_secret`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        description: str | None = None,
        value: str | None = None,
        provider_id: str | None = None,
        reference: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_secret.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            name: A name for people; unique in the organization. 1 to 100 characters.
            description: What it is for. At most 1000 characters.
            value: The value, stored encrypted (AES-256-GCM). 1 to 65536 characters. Write-only: the API never
                returns it, so Terraform keeps the value it last sent.
            provider_id: The secret provider holding the value. An id (a UUID), such as another resource's `id`,
                not a name.
            reference: Where the provider keeps the value: <mount>/<path>/<key> (Vault KV v2: the key of the
                secret at path in the engine mounted at mount). At most 1024 characters. Must match
                `[^/]+/.+/[^/]+`: must be in the format <mount>/<path>/<key>.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_secret", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
            "description": description,
            "value": value,
            "provider_id": provider_id,
            "reference": reference,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization. 1 to 100 characters."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it is for. At most 1000 characters."""
        return self.get_string_attribute("description")

    @property
    def value(self) -> str:
        """The value, stored encrypted (AES-256-GCM). 1 to 65536 characters. Write-only: the API never returns
        it, so Terraform keeps the value it last sent.
        """
        return self.get_string_attribute("value")

    @property
    def provider_id(self) -> str:
        """The secret provider holding the value. An id (a UUID), such as another resource's `id`, not a name.
        """
        return self.get_string_attribute("provider_id")

    @property
    def reference(self) -> str:
        """Where the provider keeps the value: <mount>/<path>/<key> (Vault KV v2: the key of the secret at path
        in the engine mounted at mount). At most 1024 characters. Must match `[^/]+/.+/[^/]+`: must be in the
        format <mount>/<path>/<key>.
        """
        return self.get_string_attribute("reference")


@dataclass(frozen=True, kw_only=True)
class AgynSecretProviderVault:
    """How to reach Vault: its address and a token allowed to read the secrets. The value of
    `agyn_secret_provider.vault`.
    """

    address: str
    """Vault's base URL, e.g. https://vault.example:8200. At most 2048 characters. Must match
    `https?://[^\\s/$.?#][^\\s]*`: must be an http(s) URL such as https://example.com.
    """
    token: str
    """A Vault token that can read the secrets. 1 to 4096 characters. Write-only: the API never returns it, so
    Terraform keeps the value it last sent.
    """


class AgynSecretProvider(AgynResource):
    """An external secret store the platform reads secret values from (HashiCorp Vault, KV v2).

    The Terraform resource `agyn_secret_provider`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        type: typing.Literal["vault"],
        vault: AgynSecretProviderVault | typing.Mapping[str, typing.Any],
        description: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_secret_provider.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            name: A name for people; unique in the organization. 1 to 100 characters.
            type: The kind of store. One of `vault`. Changing it replaces the object.
            vault: How to reach Vault: its address and a token allowed to read the secrets.
            description: What it is for. At most 1000 characters.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_secret_provider", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
            "type": type,
            "vault": vault,
            "description": description,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization. 1 to 100 characters."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it is for. At most 1000 characters."""
        return self.get_string_attribute("description")

    @property
    def type(self) -> str:
        """The kind of store. One of `vault`. Changing it replaces the object."""
        return self.get_string_attribute("type")

    @property
    def vault(self) -> cdk.IResolvable:
        """How to reach Vault: its address and a token allowed to read the secrets."""
        return self.interpolation_for_attribute("vault")


class AgynSkill(AgynResource):
    """Instructions the agent loads when a task calls for them.

    The Terraform resource `agyn_skill`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        agent_id: str,
        name: str,
        body: str,
        description: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_skill.<id_>`.

        Args:
            agent_id: The agent it belongs to. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            name: A slug, unique per agent. At most 64 characters. Must match `[a-z0-9][a-z0-9-]{0,63}`: use 1
                to 64 characters from a-z, 0-9 and '-', starting with a letter or digit.
            body: The instructions (Markdown, without front matter). 1 to 262144 characters.
            description: When the skill applies. At most 1024 characters.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_skill", PROVIDER_VERSION, {
            "agent_id": agent_id,
            "name": name,
            "body": body,
            "description": description,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def agent_id(self) -> str:
        """The agent it belongs to. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def name(self) -> str:
        """A slug, unique per agent. At most 64 characters. Must match `[a-z0-9][a-z0-9-]{0,63}`: use 1 to 64
        characters from a-z, 0-9 and '-', starting with a letter or digit.
        """
        return self.get_string_attribute("name")

    @property
    def body(self) -> str:
        """The instructions (Markdown, without front matter). 1 to 262144 characters."""
        return self.get_string_attribute("body")

    @property
    def description(self) -> str:
        """When the skill applies. At most 1024 characters."""
        return self.get_string_attribute("description")


class AgynUser(AgynResource):
    """A person, known by their OIDC subject; managed by cluster admins. The id is the identity id.

    The Terraform resource `agyn_user`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        oidc_subject: str,
        username: str | None = None,
        name: str | None = None,
        email: str | None = None,
        photo_url: str | None = None,
        cluster_role: typing.Literal["admin", "none"] | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_user.<id_>`.

        Args:
            oidc_subject: The `sub` of the user's tokens at the identity provider. 1 to 255 characters. Changing
                it replaces the object.
            username: Cluster-wide handle; derived from the profile when omitted. Must match `[a-z0-9_-]{1,32}`:
                use 1 to 32 characters from a-z, 0-9, '_' and '-'.
            name: Display name. At most 200 characters. Default `""`.
            email: Email address. At most 320 characters. Must match `^$|^[^@\\s]+@[^@\\s]+$`: must be an email
                address like name@example.com, or empty. Default `""`.
            photo_url: Avatar URL. At most 2048 characters. Default `""`.
            cluster_role: admin gives administrative access to the whole platform. One of `admin`, `none`.
                Default `"none"`.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_user", PROVIDER_VERSION, {
            "oidc_subject": oidc_subject,
            "username": username,
            "name": name,
            "email": email,
            "photo_url": photo_url,
            "cluster_role": cluster_role,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def oidc_subject(self) -> str:
        """The `sub` of the user's tokens at the identity provider. 1 to 255 characters. Changing it replaces
        the object.
        """
        return self.get_string_attribute("oidc_subject")

    @property
    def username(self) -> str:
        """Cluster-wide handle; derived from the profile when omitted. Must match `[a-z0-9_-]{1,32}`: use 1 to
        32 characters from a-z, 0-9, '_' and '-'.
        """
        return self.get_string_attribute("username")

    @property
    def name(self) -> str:
        """Display name. At most 200 characters. Default `""`."""
        return self.get_string_attribute("name")

    @property
    def email(self) -> str:
        """Email address. At most 320 characters. Must match `^$|^[^@\\s]+@[^@\\s]+$`: must be an email address
        like name@example.com, or empty. Default `""`.
        """
        return self.get_string_attribute("email")

    @property
    def photo_url(self) -> str:
        """Avatar URL. At most 2048 characters. Default `""`."""
        return self.get_string_attribute("photo_url")

    @property
    def cluster_role(self) -> str:
        """admin gives administrative access to the whole platform. One of `admin`, `none`. Default `"none"`."""
        return self.get_string_attribute("cluster_role")


class AgynVolume(AgynResource):
    """A volume definition of the organization: scratch space, or a persistent disk; attach it to agents, MCP
    servers or hooks.

    The Terraform resource `agyn_volume`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        mount_path: str,
        persistent: bool | None = None,
        size: str | None = None,
        ttl: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_volume.<id_>`.

        Args:
            organization_id: The organization that owns it. An id (a UUID), such as another resource's `id`, not
                a name. Changing it replaces the object.
            name: Unique in the organization (a DNS label). At most 63 characters. Must match
                `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`: use 1 to 63 characters from a-z, 0-9 and '-', starting and
                ending with a letter or digit.
            mount_path: Absolute path it is mounted at. At most 4096 characters. Must match `/[^\\x00]*`: must
                be an absolute path.
            persistent: true: a disk that outlives the workload; false: scratch space. Default `false`.
            size: Capacity, e.g. 10Gi; required when persistent. At most 64 characters. Must match
                `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a
                Kubernetes quantity, e.g. 500m, 2, 512Mi or 10Gi.
            ttl: How long a persistent disk survives after its last workload stopped; empty: forever. A duration
                such as `"30s"`, `"5m"` or `"1h30m"`, longer than zero.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_volume", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
            "mount_path": mount_path,
            "persistent": persistent,
            "size": size,
            "ttl": ttl,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """Unique in the organization (a DNS label). At most 63 characters. Must match
        `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`: use 1 to 63 characters from a-z, 0-9 and '-', starting and ending
        with a letter or digit.
        """
        return self.get_string_attribute("name")

    @property
    def persistent(self) -> cdk.IResolvable:
        """true: a disk that outlives the workload; false: scratch space. Default `false`."""
        return self.get_boolean_attribute("persistent")

    @property
    def size(self) -> str:
        """Capacity, e.g. 10Gi; required when persistent. At most 64 characters. Must match
        `\\+?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?`: must be a Kubernetes
        quantity, e.g. 500m, 2, 512Mi or 10Gi.
        """
        return self.get_string_attribute("size")

    @property
    def mount_path(self) -> str:
        """Absolute path it is mounted at. At most 4096 characters. Must match `/[^\\x00]*`: must be an absolute
        path.
        """
        return self.get_string_attribute("mount_path")

    @property
    def ttl(self) -> str:
        """How long a persistent disk survives after its last workload stopped; empty: forever. A duration such
        as `"30s"`, `"5m"` or `"1h30m"`, longer than zero.
        """
        return self.get_string_attribute("ttl")


class AgynVolumeAttachment(AgynResource):
    """Mounts a volume into an agent, an MCP server or a hook. Cannot be changed: replace it.

    The Terraform resource `agyn_volume_attachment`; import it by `<id>`.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        volume_id: str,
        agent_id: str | None = None,
        mcp_id: str | None = None,
        hook_id: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `agyn_volume_attachment.<id_>`.

        Args:
            volume_id: The volume (it cannot be deleted while attached). An id (a UUID), such as another
                resource's `id`, not a name. Changing it replaces the object.
            agent_id: The agent that mounts it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            mcp_id: The MCP server that mounts it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            hook_id: The hook that mounts it. An id (a UUID), such as another resource's `id`, not a name.
                Changing it replaces the object.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_volume_attachment", PROVIDER_VERSION, {
            "volume_id": volume_id,
            "agent_id": agent_id,
            "mcp_id": mcp_id,
            "hook_id": hook_id,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def volume_id(self) -> str:
        """The volume (it cannot be deleted while attached). An id (a UUID), such as another resource's `id`,
        not a name. Changing it replaces the object.
        """
        return self.get_string_attribute("volume_id")

    @property
    def agent_id(self) -> str:
        """The agent that mounts it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("agent_id")

    @property
    def mcp_id(self) -> str:
        """The MCP server that mounts it. An id (a UUID), such as another resource's `id`, not a name. Changing
        it replaces the object.
        """
        return self.get_string_attribute("mcp_id")

    @property
    def hook_id(self) -> str:
        """The hook that mounts it. An id (a UUID), such as another resource's `id`, not a name. Changing it
        replaces the object.
        """
        return self.get_string_attribute("hook_id")


class DataAgynAgent(AgynDataSource):
    """Looks up one agent by organization_id and name.

    The Terraform data source `agyn_agent`. An agent: who it is (name, @nickname, role), the model it thinks
    with, where and how it runs, and who may start conversations with it. Its id is its identity id.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_agent.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: A name for people; unique in the organization.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_agent", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization."""
        return self.get_string_attribute("name")

    @property
    def nickname(self) -> str:
        """The @handle people mention it by; unique among the organization's identities (users included)."""
        return self.get_string_attribute("nickname")

    @property
    def role(self) -> str:
        """What it does, e.g. assistant or reviewer; told to the agent at run time."""
        return self.get_string_attribute("role")

    @property
    def model(self) -> str:
        """The id of the model it uses (an `agyn_model` of its organization, e.g. `agyn_model.gpt.id`), not the
        model's name.
        """
        return self.get_string_attribute("model")

    @property
    def image(self) -> str:
        """Container image the agent runs in."""
        return self.get_string_attribute("image")

    @property
    def init_image(self) -> str:
        """Container image that prepares the workload before the agent starts."""
        return self.get_string_attribute("init_image")

    @property
    def configuration(self) -> str:
        """Configuration for the agent runtime, e.g. {"system_prompt": "..."}."""
        return self.get_string_attribute("configuration")

    @property
    def idle_timeout(self) -> str:
        """How long a workload may stay idle before it is stopped."""
        return self.get_string_attribute("idle_timeout")

    @property
    def runner_labels(self) -> typing.Mapping[str, str]:
        """Labels a runner must carry to run this agent."""
        return self.get_string_map_attribute("runner_labels")

    @property
    def capabilities(self) -> list[str]:
        """What a runner must offer to run this agent, e.g. docker."""
        return self.get_list_attribute("capabilities")

    @property
    def availability(self) -> str:
        """internal: every member of the organization may start conversations with it; private: only those with
        a role on it.
        """
        return self.get_string_attribute("availability")

    @property
    def resources(self) -> cdk.IResolvable:
        """Compute requests and limits of the container (Kubernetes quantities)."""
        return self.interpolation_for_attribute("resources")


class DataAgynApp(AgynDataSource):
    """Looks up one app by slug.

    The Terraform data source `agyn_app`. A service that acts on threads for an external system, defined by an
    organization and installed into organizations. The app is an identity (its id is its identity id) that
    authenticates with its service token.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        slug: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_app.<id_>`.

        Args:
            slug: Cluster-wide unique handle, e.g. telegram; the default @nickname of its installations.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_app", PROVIDER_VERSION, {
            "slug": slug,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that defines it."""
        return self.get_string_attribute("organization_id")

    @property
    def slug(self) -> str:
        """Cluster-wide unique handle, e.g. telegram; the default @nickname of its installations."""
        return self.get_string_attribute("slug")

    @property
    def name(self) -> str:
        """Display name."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it does, for people choosing to install it."""
        return self.get_string_attribute("description")

    @property
    def visibility(self) -> str:
        """public: any organization may install it; internal: only its own organization."""
        return self.get_string_attribute("visibility")

    @property
    def permissions(self) -> list[str]:
        """What it may do in the organizations it is installed in: thread:create, thread:write (send to any
        thread), participant:add.
        """
        return self.get_list_attribute("permissions")


class DataAgynLlmProvider(AgynDataSource):
    """Looks up one llm provider by organization_id and name.

    The Terraform data source `agyn_llm_provider`. An upstream LLM provider: endpoint, protocol and credentials
    (encrypted at rest, write-only).
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_llm_provider.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: A name for people; unique in the organization when set.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_llm_provider", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization when set."""
        return self.get_string_attribute("name")

    @property
    def endpoint(self) -> str:
        """Base URL of the provider's API, e.g. https://api.openai.com/v1."""
        return self.get_string_attribute("endpoint")

    @property
    def protocol(self) -> str:
        """Wire protocol the provider speaks."""
        return self.get_string_attribute("protocol")

    @property
    def auth_method(self) -> str:
        """How requests authenticate: a bearer token, an x-api-key header, or custom headers."""
        return self.get_string_attribute("auth_method")


class DataAgynModel(AgynDataSource):
    """Looks up one model by organization_id and name.

    The Terraform data source `agyn_model`. A platform model name mapped to a provider and the provider's own
    model name.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_model.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: The name agents and clients use, e.g. gpt-4o; unique in the organization.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_model", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """The name agents and clients use, e.g. gpt-4o; unique in the organization."""
        return self.get_string_attribute("name")

    @property
    def llm_provider_id(self) -> str:
        """The provider that serves it."""
        return self.get_string_attribute("llm_provider_id")

    @property
    def remote_name(self) -> str:
        """The model's name at the provider, e.g. gpt-4o-2024-08-06."""
        return self.get_string_attribute("remote_name")


class DataAgynOrganization(AgynDataSource):
    """Looks up one organization by id or name.

    The Terraform data source `agyn_organization`. An organization: the tenancy boundary that owns members,
    agents, models, secrets and apps.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        id: str | None = None,
        name: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_organization.<id_>`.

        Args:
            id: The object's id.
            name: Unique name of the organization.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_organization", PROVIDER_VERSION, {
            "id": id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def name(self) -> str:
        """Unique name of the organization."""
        return self.get_string_attribute("name")


class DataAgynRunner(AgynDataSource):
    """Looks up one runner by name, and organization_id.

    The Terraform data source `agyn_runner`. A place where agent workloads run: cluster-wide, or one
    organization's own. The runner is an identity (its id is its identity id) that authenticates with its
    service token.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        name: str,
        organization_id: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_runner.<id_>`.

        Args:
            name: A name for people; unique among the organization's (or the cluster-wide) runners.
            organization_id: The organization it serves; omit for a cluster-wide runner (cluster admins only).
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_runner", PROVIDER_VERSION, {
            "name": name,
            "organization_id": organization_id,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization it serves; omit for a cluster-wide runner (cluster admins only)."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique among the organization's (or the cluster-wide) runners."""
        return self.get_string_attribute("name")

    @property
    def labels(self) -> typing.Mapping[str, str]:
        """Labels agents select runners by (an agent's runner_labels must all match)."""
        return self.get_string_map_attribute("labels")

    @property
    def capabilities(self) -> list[str]:
        """What it offers, e.g. docker or gpu (an agent's capabilities must all be offered)."""
        return self.get_list_attribute("capabilities")


class DataAgynSecret(AgynDataSource):
    """Looks up one secret by organization_id and name.

    The Terraform data source `agyn_secret`. A secret value: stored encrypted by the platform, or read from a
    secret provider when used.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_secret.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: A name for people; unique in the organization.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_secret", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it is for."""
        return self.get_string_attribute("description")

    @property
    def provider_id(self) -> str:
        """The secret provider holding the value."""
        return self.get_string_attribute("provider_id")

    @property
    def reference(self) -> str:
        """Where the provider keeps the value: <mount>/<path>/<key> (Vault KV v2: the key of the secret at path
        in the engine mounted at mount).
        """
        return self.get_string_attribute("reference")


class DataAgynSecretProvider(AgynDataSource):
    """Looks up one secret provider by organization_id and name.

    The Terraform data source `agyn_secret_provider`. An external secret store the platform reads secret values
    from (HashiCorp Vault, KV v2).
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_secret_provider.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: A name for people; unique in the organization.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_secret_provider", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """A name for people; unique in the organization."""
        return self.get_string_attribute("name")

    @property
    def description(self) -> str:
        """What it is for."""
        return self.get_string_attribute("description")

    @property
    def type(self) -> str:
        """The kind of store."""
        return self.get_string_attribute("type")

    @property
    def vault(self) -> cdk.IResolvable:
        """How to reach Vault: its address and a token allowed to read the secrets."""
        return self.interpolation_for_attribute("vault")


class DataAgynUser(AgynDataSource):
    """Looks up one user by id or username or oidc_subject.

    The Terraform data source `agyn_user`. A person, known by their OIDC subject; managed by cluster admins. The
    id is the identity id.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        id: str | None = None,
        username: str | None = None,
        oidc_subject: str | None = None,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_user.<id_>`.

        Args:
            id: The object's id.
            username: Cluster-wide handle; derived from the profile when omitted.
            oidc_subject: The `sub` of the user's tokens at the identity provider.
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_user", PROVIDER_VERSION, {
            "id": id,
            "username": username,
            "oidc_subject": oidc_subject,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def oidc_subject(self) -> str:
        """The `sub` of the user's tokens at the identity provider."""
        return self.get_string_attribute("oidc_subject")

    @property
    def username(self) -> str:
        """Cluster-wide handle; derived from the profile when omitted."""
        return self.get_string_attribute("username")

    @property
    def name(self) -> str:
        """Display name."""
        return self.get_string_attribute("name")

    @property
    def email(self) -> str:
        """Email address."""
        return self.get_string_attribute("email")

    @property
    def photo_url(self) -> str:
        """Avatar URL."""
        return self.get_string_attribute("photo_url")

    @property
    def cluster_role(self) -> str:
        """admin gives administrative access to the whole platform."""
        return self.get_string_attribute("cluster_role")


class DataAgynVolume(AgynDataSource):
    """Looks up one volume by organization_id and name.

    The Terraform data source `agyn_volume`. A volume definition of the organization: scratch space, or a
    persistent disk; attach it to agents, MCP servers or hooks.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        depends_on: typing.Sequence[cdk.ITerraformDependable] | None = None,
        count: float | cdk.TerraformCount | None = None,
        for_each: cdk.ITerraformIterator | None = None,
        lifecycle: cdk.TerraformResourceLifecycle | None = None,
        provider: cdk.TerraformProvider | None = None,
    ) -> None:
        """Declares `data.agyn_volume.<id_>`.

        Args:
            organization_id: The organization that owns it.
            name: Unique in the organization (a DNS label).
            depends_on, count, for_each, lifecycle, provider: Terraform's meta-arguments.
        """
        super().__init__(scope, id_, "agyn_volume", PROVIDER_VERSION, {
            "organization_id": organization_id,
            "name": name,
        }, depends_on=depends_on, count=count, for_each=for_each, lifecycle=lifecycle, provider=provider)

    @property
    def id(self) -> str:
        """The object's id."""
        return self.get_string_attribute("id")

    @property
    def organization_id(self) -> str:
        """The organization that owns it."""
        return self.get_string_attribute("organization_id")

    @property
    def name(self) -> str:
        """Unique in the organization (a DNS label)."""
        return self.get_string_attribute("name")

    @property
    def persistent(self) -> cdk.IResolvable:
        """true: a disk that outlives the workload; false: scratch space."""
        return self.get_boolean_attribute("persistent")

    @property
    def size(self) -> str:
        """Capacity, e.g. 10Gi; required when persistent."""
        return self.get_string_attribute("size")

    @property
    def mount_path(self) -> str:
        """Absolute path it is mounted at."""
        return self.get_string_attribute("mount_path")

    @property
    def ttl(self) -> str:
        """How long a persistent disk survives after its last workload stopped; empty: forever."""
        return self.get_string_attribute("ttl")


__all__ = [
    "AgynProvider",
    "PROVIDER_VERSION",
    "AgynAgentResources",
    "AgynAgent",
    "AgynAgentRole",
    "AgynApp",
    "AgynAppInstallation",
    "AgynEnv",
    "AgynHook",
    "AgynInitScript",
    "AgynLlmProvider",
    "AgynMcpResources",
    "AgynMcp",
    "AgynMembership",
    "AgynModel",
    "AgynOrganization",
    "AgynRunner",
    "AgynSecret",
    "AgynSecretProviderVault",
    "AgynSecretProvider",
    "AgynSkill",
    "AgynUser",
    "AgynVolume",
    "AgynVolumeAttachment",
    "DataAgynAgent",
    "DataAgynApp",
    "DataAgynLlmProvider",
    "DataAgynModel",
    "DataAgynOrganization",
    "DataAgynRunner",
    "DataAgynSecret",
    "DataAgynSecretProvider",
    "DataAgynUser",
    "DataAgynVolume",
]
