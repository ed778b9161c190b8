"""The `agyn` Terraform provider (source `agynio/agyn`, plugin protocol v6) on the `tf` framework.

Resources and data sources are generated from the platform's resource registry. Run it as Terraform
does (`terraform-provider-agyn`, written by `agyn provider install`), or with `--dev` for one
long-lived process Terraform reattaches to (`TF_REATTACH_PROVIDERS`), which tests use.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import grpc
import tf.provider
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Config, DataSource, Provider, Resource
from tf.provider import ProviderServicer, _decode_state, _encode_state
from tf.runner import run_provider
from tf.schema import Attribute, Schema
from tf.types import String, Unknown
from tf.utils import Diagnostics, _to_attribute_path

from agyn.modules import load_registry
from agyn_provider.client import ApiClient, ApiError, report
from agyn_provider.data_sources import data_source_classes
from agyn_provider.resources import RegistryResource, resource_classes

ADDRESS = "registry.terraform.io/agynio/agyn"
SOURCE = "agynio/agyn"
API_URL_ENV = "AGYN_API_URL"
API_TOKEN_ENV = "AGYN_API_TOKEN"
MINIMUM_TERRAFORM = (1, 0)
"""Protocol v6 needs Terraform 1.0; the CI runs the provider's tests on the TESTED_TERRAFORM builds."""
TESTED_TERRAFORM = ("1.0.3", "1.15.5")

PROVIDER_SCHEMA = Schema(version=0, attributes=[
    Attribute("api_url", String(), optional=True,
              description=f"Base URL of the Agyn API, e.g. `http://127.0.0.1:8080`. Default: `${API_URL_ENV}`."),
    Attribute("api_token", String(), optional=True, sensitive=True,
              description=f"An Agyn API token (`agyn_...`). Default: `${API_TOKEN_ENV}`."),
])


class AgynProvider(Provider):
    """Holds the API client that `configure_provider` makes, for every resource and data source."""

    def __init__(self) -> None:
        registry = load_registry()
        self._resources = resource_classes(registry)
        self._data_sources = data_source_classes(registry)
        self._lock = threading.Lock()  # gRPC calls run on a thread pool
        self._client: ApiClient | None = None

    def get_model_prefix(self) -> str:
        return "agyn_"

    def full_name(self) -> str:
        return ADDRESS

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return PROVIDER_SCHEMA

    def get_resources(self) -> list[type[Resource]]:
        return list(self._resources)

    def get_data_sources(self) -> list[type[DataSource]]:
        return list(self._data_sources)

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        url = config.get("api_url")
        if isinstance(url, str) and url:
            _check_url(diags, url)

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        url = _setting(config, "api_url", API_URL_ENV)
        token = _setting(config, "api_token", API_TOKEN_ENV)
        if url is Unknown or token is Unknown:
            diags.add_error("Provider configuration not known yet",
                            "api_url and api_token must be known when planning; do not derive them from "
                            "resources that are not created yet")
            return
        if not url:
            diags.add_error("Missing API URL", f"Set api_url in the provider \"agyn\" block, or {API_URL_ENV}.",
                            path=["api_url"])
        if not token:
            diags.add_error("Missing API token",
                            f"Set api_token in the provider \"agyn\" block, or {API_TOKEN_ENV} (an agyn_... token; "
                            "`agyn serve` writes the first admin's to <data dir>/admin-token).", path=["api_token"])
        if not url or not token or not _check_url(diags, url):
            return
        with self._lock:
            client = self._client
        if client is None or (client.api_url, client.token) != (url.rstrip("/"), token):
            client = ApiClient(url, token)
        try:
            client.me()
        except ApiError as error:
            if error.status == 401:
                diags.add_error("The API token was rejected", f"{url} says: {error.detail}. Check api_token "
                                f"(or {API_TOKEN_ENV}); it may be revoked or expired.", path=["api_token"])
            else:
                report(diags, error, f"Cannot use the Agyn API at {url}", set())
            return
        with self._lock:
            self._client = client

    def client(self, diags: Diagnostics) -> ApiClient | None:
        with self._lock:
            client = self._client
        if client is None:
            diags.add_error("The agyn provider is not configured",
                            "Its configuration failed (see the errors above), so it cannot call the API.")
        return client


def unsupported_terraform(version: str) -> str | None:
    """Why this Terraform version (ConfigureProvider's `terraform_version`) cannot use the provider, or
    None when it can (an empty or unparsable version is given the benefit of the doubt)."""
    found = re.match(r"v?(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) >= MINIMUM_TERRAFORM:
        return None
    minimum = ".".join(map(str, MINIMUM_TERRAFORM))
    return f"The agyn provider needs Terraform {minimum} or later, and this is Terraform {version}: upgrade Terraform."


def _setting(config: Config, name: str, env: str) -> Any:
    value = config.get(name)
    return value if value is Unknown or value else os.environ.get(env, "")


def _check_url(diags: Diagnostics, url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        diags.add_error("Invalid API URL", f"api_url must be an http(s) URL such as http://127.0.0.1:8080, got "
                                           f"{url!r}", path=["api_url"])
        return False
    return True


class AgynServicer(ProviderServicer):
    """The framework's servicer, with planning that sees the configuration and a Terraform version check.

    The framework plans an update without the configuration, so it cannot tell "left out" from "set
    to the value it had"; planning a default when a field is left out needs that. Here every plan
    goes to `RegistryResource.plan_change`, which also says which attributes force a replacement.
    """

    def ConfigureProvider(self, request: pb.ConfigureProvider.Request,
                          context: grpc.ServicerContext) -> pb.ConfigureProvider.Response:
        problem = unsupported_terraform(request.terraform_version)
        if problem is None:
            response: pb.ConfigureProvider.Response = super().ConfigureProvider(request, context)
            return response
        diags = Diagnostics().add_error("Unsupported Terraform version", problem)
        return pb.ConfigureProvider.Response(diagnostics=diags.to_pb())

    def PlanResourceChange(self, request: pb.PlanResourceChange.Request,
                           context: grpc.ServicerContext) -> pb.PlanResourceChange.Response:
        diags = Diagnostics()
        type_name = request.type_name
        attributes, blocks = self._get_res_attrs(type_name), self._get_res_blocks(type_name)
        _, prior = _decode_state(diags, attributes, blocks, request.prior_state)
        proposed_encoded, proposed = _decode_state(diags, attributes, blocks, request.proposed_new_state)
        _, config = _decode_state(diags, attributes, blocks, request.config)
        if diags.has_errors() or proposed is None:  # destroying: nothing to plan
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state,
                                                  diagnostics=diags.to_pb())
        resource = self.app.new_resource(self._get_res_cls(type_name))
        assert isinstance(resource, RegistryResource)
        planned, replace = resource.plan_change(prior, proposed, config or {})
        return pb.PlanResourceChange.Response(
            planned_state=_encode_state(attributes, blocks, planned, proposed_encoded),
            requires_replace=[_to_attribute_path([name]) for name in replace],
            diagnostics=diags.to_pb())


def main(argv: list[str] | None = None) -> None:
    """Serve the provider to Terraform (go-plugin handshake on stdout), or with `--dev` for reattaching."""
    tf.provider.ProviderServicer = AgynServicer  # run_provider builds this class
    run_provider(AgynProvider(), argv or sys.argv)
