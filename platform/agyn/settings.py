"""Platform settings: `AGYN_*` environment variables, an optional config file, embedded defaults.

Precedence (highest first): explicit arguments, environment, config file (`AGYN_CONFIG_FILE`, TOML
or YAML), defaults. Every production part is chosen here; with nothing set the platform runs on
one machine (SQLite in the data dir, embedded authorization, in-process pub/sub).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from agyn.kit.crypto import KeyFiles, decode_key

CONFIG_FILE_ENV = "AGYN_CONFIG_FILE"


class OpenFGASettings(BaseModel):
    """An OpenFGA server; when `api_url` is unset the embedded engine is used."""

    api_url: str | None = None
    store_id: str | None = None
    model_id: str | None = None
    api_token: SecretStr | None = None


class OIDCSettings(BaseModel):
    """The identity provider whose access tokens (JWTs) log users in."""

    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = Field(
        default=None, description="Defaults to the issuer's discovery document's jwks_uri."
    )
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    email_claim: str = "email"
    client_id: str | None = Field(
        default=None, description="The web page's OIDC client (a public client: authorization code with PKCE); "
                                  "without it the page offers API-token sign-in only.")
    scope: str = "openid profile email"

    @property
    def enabled(self) -> bool:
        return self.issuer is not None


class NotificationsSettings(BaseModel):
    """Real-time delivery of events to clients (Socket.IO and Server-Sent Events)."""

    heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="An SSE stream silent this long gets a comment line, so proxies keep it open.")
    queue_size: int = Field(
        default=1000, ge=1,
        description="Events buffered per subscriber; one more and the subscriber is dropped as too slow.")
    redis_channel: str = Field(
        default="agyn.notifications", min_length=1,
        description="The Redis pub/sub channel the replicas share (with redis_url).")


class TestLLMSettings(BaseModel):
    """The built-in scripted test LLM served at `/testllm`."""

    __test__ = False  # not a pytest test class, despite the name

    suites_dir: Path | None = Field(
        default=None,
        description="A directory of suite files (*.yaml) served besides the bundled ones and <data dir>/testllm/; "
                    "files are re-read when they change.")


class ThreadsSettings(BaseModel):
    """Limits of the conversation store."""

    max_body_chars: int = Field(
        default=100_000, ge=1, description="Longest message body, in characters; longer is refused with 413.")


class FilesSettings(BaseModel):
    """Uploaded files: limits, signed URLs, and where the bytes live (a local directory unless S3 is set)."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="Largest upload, in bytes (then 413).")
    url_ttl_seconds: int = Field(
        default=900, ge=1, le=86_400, description="How long a signed download URL works when the caller names none.")
    directory: Path | None = Field(default=None, description="Local storage; default: <data dir>/files.")
    s3_bucket: str | None = Field(default=None, description="Store in this S3 bucket instead of a local directory.")
    s3_endpoint_url: str | None = Field(default=None, description="An S3-compatible endpoint (MinIO, Ceph ...).")
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None


class MediaSettings(BaseModel):
    """The media proxy's limits and the networks it may fetch from."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="Largest external response (then 413).")
    timeout_seconds: float = Field(default=15.0, gt=0, description="Whole external fetch (then 504).")
    max_redirects: int = Field(default=3, ge=0, le=10)
    max_image_pixels: int = Field(
        default=40_000_000, ge=1, description="Largest image (width × height) it decodes to resize (then 413).")
    max_size: int = Field(default=4096, ge=1, description="Largest `size` a caller may ask for.")
    allow_private: bool = Field(
        default=False, description="Fetch from loopback, private and link-local addresses too (tests only).")
    allow_networks: list[str] = Field(
        default_factory=list, description="Networks (CIDR) fetched from even though private, e.g. an internal CDN.")
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Origins the web page may call it from; its callers send a bearer token, never cookies.")


class LLMProxySettings(BaseModel):
    """The LLM proxy's upstream calls and caches."""

    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect to a provider (then 502).")
    read_timeout: float = Field(
        default=300.0, gt=0,
        description="Seconds a provider may stay silent: before its response starts, or between two chunks "
                    "of it (then 504, or the stream ends).")
    max_connections: int = Field(default=200, ge=1, description="Pooled connections to providers, in all.")
    cache_seconds: float = Field(
        default=60.0, ge=0,
        description="How long a replica trusts a model resolution or a permission it looked up; writes in "
                    "this process invalidate at once, another replica's within this time.")


class MeteringSettings(BaseModel):
    """The background writer of usage records."""

    flush_interval: float = Field(default=1.0, gt=0, description="Seconds between two writes of buffered records.")
    batch_size: int = Field(default=500, ge=1, description="Records per write; a full batch is written at once.")
    max_buffered: int = Field(
        default=100_000, ge=1,
        description="Records held while the database is unreachable; beyond, the oldest are dropped (and counted).")


class TracingSettings(BaseModel):
    """Span ingestion (`POST /v1/traces`) and how long spans are kept."""

    retention: timedelta = Field(
        default=timedelta(days=14), gt=timedelta(0),
        description="How long spans are kept after they start (ISO 8601 such as P14D, or seconds).")
    purge_interval_seconds: float = Field(default=300.0, gt=0, description="Seconds between two retention purges.")
    purge_batch_size: int = Field(default=5000, ge=1, description="Spans deleted per statement while purging.")
    max_body_bytes: int = Field(
        default=8 * 1_048_576, ge=1024,
        description="Largest export accepted, in bytes, as sent and once decompressed (413 beyond).")
    max_spans_per_export: int = Field(default=10_000, ge=1, description="Most spans in one export (413 beyond).")


class RunnerSettings(BaseModel):
    """The local runner: how a workload's processes are started on this machine."""

    runtime_command: str = Field(
        default="agyn agent-runtime", min_length=1,
        description="The agent runtime each workload runs (split like a shell would; no shell involved).")
    platform_url: str | None = Field(
        default=None, description="The platform's base URL as workloads reach it; default: http://<host>:<port>.")
    stop_grace_seconds: float = Field(
        default=10.0, ge=0, description="Seconds a stopped workload's processes get after SIGTERM before SIGKILL.")
    embedded: bool = Field(
        default=True, description="Run workloads from this process (the cluster runner `local`, or "
                                  "`kubernetes` with kind kubernetes); off: remote runners only.")
    kind: Literal["local", "kubernetes"] = Field(
        default="local", description="What the embedded runner runs workloads as: local processes, or Pods "
                                     "(see AGYN_KUBERNETES__*).")


class KubernetesSettings(BaseModel):
    """The Kubernetes runner and the Lease leader election: where the cluster is and how Pods look."""

    kubeconfig: Path | None = Field(
        default=None, description="A kubeconfig file; default: the in-cluster service account, else ~/.kube/config.")
    context: str | None = Field(default=None, description="The kubeconfig context; default: its current one.")
    namespace: str = Field(
        default="agyn-workloads", min_length=1, max_length=63,
        description="The namespace workload Pods, their Secrets and volume claims live in.")
    runtime_image: str = Field(
        default="agyn-runtime:0.1.0", min_length=1,
        description="The image that provides the agent runtime under /opt/agyn (the init container copies it "
                    "into the Pod); also the main container's image for an agent without `image`.")
    runtime_command: str = Field(
        default="/agyn/bin/agyn agent-runtime", min_length=1,
        description="The main container's command (the runtime as the init container laid it out).")
    storage_class: str | None = Field(
        default=None, description="The storage class of persistent volumes' claims; default: the cluster's.")
    start_grace_seconds: float = Field(
        default=60.0, ge=0, description="How long a Pod may wait on an image pull or a container configuration "
                                        "error before its workload fails.")
    crashloop_threshold: int = Field(
        default=3, ge=1, description="Restarts of a crash-looping container after which its workload fails.")
    lease_name: str = Field(default="agyn-orchestrator", min_length=1, max_length=253,
                            description="The orchestrator's Lease (with AGYN_ORCHESTRATOR__LEASE=kubernetes).")
    lease_namespace: str | None = Field(
        default=None, description="The Lease's namespace; default: the Pod's own (in-cluster), else `namespace`.")
    lease_duration_seconds: int = Field(
        default=15, ge=1, description="A leader that has not renewed its Lease for this long loses it; keep it "
                                        "above AGYN_ORCHESTRATOR__TICK_SECONDS.")


class OrchestratorSettings(BaseModel):
    """The control loop that starts and stops workloads."""

    enabled: bool = Field(
        default=True, description="Run the orchestrator in this process (leader-elected among replicas).")
    tick_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between two reconcile passes when no event wakes it earlier.")
    lease_retry_seconds: float = Field(
        default=2.0, gt=0, description="Seconds a replica that is not the leader waits before trying again.")
    token_ttl_seconds: float = Field(
        default=3600.0, gt=0, description="Lifetime of a workload token; renewed while the workload runs.")
    runner_offline_seconds: float = Field(
        default=60.0, gt=0, description="A remote runner silent this long is offline; its workloads are lost.")
    channel_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="`agyn orchestrator` serves the remote runners' channel on this port (on AGYN_HOST) while "
                    "it leads, and has no listener otherwise; point runners' --platform-url at it.")
    lease: Literal["database", "kubernetes"] = Field(
        default="database", description="Leader election: a PostgreSQL advisory lock, or a coordination.k8s.io "
                                        "Lease (see AGYN_KUBERNETES__LEASE_*).")


class Settings(BaseSettings):
    """Effective configuration of one platform process."""

    model_config = SettingsConfigDict(
        env_prefix="AGYN_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Path(".agyn")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file agyn.db in the data dir."
    )
    redis_url: str | None = Field(default=None, description="Redis for pub/sub; default: in-process.")
    openfga: OpenFGASettings = OpenFGASettings()
    notifications: NotificationsSettings = NotificationsSettings()
    oidc: OIDCSettings = OIDCSettings()
    testllm: TestLLMSettings = TestLLMSettings()
    threads: ThreadsSettings = ThreadsSettings()
    files: FilesSettings = FilesSettings()
    media: MediaSettings = MediaSettings()
    llm_proxy: LLMProxySettings = LLMProxySettings()
    metering: MeteringSettings = MeteringSettings()
    tracing: TracingSettings = TracingSettings()
    runner: RunnerSettings = RunnerSettings()
    orchestrator: OrchestratorSettings = OrchestratorSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Base64 AES-256 key for secrets at rest; generated into the data dir when unset.",
    )
    encryption_previous_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated base64 keys rotated out of encryption_key; they only decrypt "
                    "(values written before `agyn secrets rotate-key`, e.g. in a restored backup).",
    )
    admin_token_secret: str | None = Field(
        default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$",
        description="A Kubernetes Secret, <namespace>/<name>, the first start also writes the admin token into "
                    "(key `token`), with the Pod's service account or else the kubeconfig.")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    token_cache_seconds: float = Field(
        default=5.0, ge=0,
        description="How long a replica trusts an API token it checked; another replica's revocation "
                    "reaches it within this time (0: look every token up on every request).")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("encryption_key")
    @classmethod
    def _check_encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            decode_key(value.get_secret_value())  # a bad key is a bad setting, not a failed start
        return value

    @field_validator("encryption_previous_keys")
    @classmethod
    def _check_previous_keys(cls, value: SecretStr | None) -> SecretStr | None:
        for key in _split_keys(value):
            decode_key(key)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            path = Path(config_file).expanduser()
            if not path.is_file():
                raise ValueError(f"{CONFIG_FILE_ENV}={config_file}: no such file")
            if path.suffix == ".toml":
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            elif path.suffix in {".yaml", ".yml"}:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
            else:
                raise ValueError(f"{CONFIG_FILE_ENV}={config_file}: use a .toml, .yaml or .yml file")
        return tuple(sources)

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'agyn.db').resolve()}"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin-token"

    @property
    def encryption_key_path(self) -> Path:
        return self.data_dir / "encryption-key"

    @property
    def previous_encryption_keys(self) -> list[str]:
        return _split_keys(self.encryption_previous_keys)

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, every secret replaced by asterisks."""
        data = self.model_dump(mode="json")
        data["database_url"] = mask_url_password(self.effective_database_url)
        if self.redis_url:
            data["redis_url"] = mask_url_password(self.redis_url)
        return data


def _split_keys(value: SecretStr | None) -> list[str]:
    return [key.strip() for key in value.get_secret_value().split(",") if key.strip()] if value else []


def normalise_database_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite:///", "sqlite+aiosqlite:///")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def mask_url_password(url: str) -> str:
    """The URL with its password masked, in the user-info part and in a `password=` query parameter."""
    url = _QUERY_PASSWORD.sub(r"\1**********", url)
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':**********' if has_password else ''}@{host}"


_QUERY_PASSWORD = re.compile(r"([?&](?:password|sslpassword)=)[^&#]*", re.IGNORECASE)


def decryption_keys(settings: Settings) -> tuple[bytes, ...]:
    """Keys besides the current one that still open stored values: the configured previous keys and
    the data dir's previous and next key files (see `agyn secrets rotate-key`)."""
    configured = tuple(decode_key(key) for key in settings.previous_encryption_keys)
    return configured + KeyFiles(settings.encryption_key_path).decryption_keys()
