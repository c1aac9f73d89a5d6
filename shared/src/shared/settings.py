"""Settings every service shares, read from the environment.

Each service reads `YB_<SERVICE>_<NAME>` first and falls back to `YB_<NAME>`, so a deployment sets
what all services share (broker, keys) once and what differs (database role) per service.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

Environment = Literal["development", "test", "staging", "production"]


DEVELOPMENT_PERSON_KEY = "development-only-person-key-change-me"

# Pooled connections HTTP requests may never take: the outbox relay's batch, the access audit's
# flush and the consumer's batch (see `database_request_connections`).
DATABASE_BACKGROUND_CONNECTIONS = 3


class CommonSettings(BaseSettings):
    """Fields every process needs; subclasses set `env_prefix` to their own `YB_<SERVICE>_`."""

    model_config = SettingsConfigDict(env_prefix="YB_", extra="ignore")

    environment: Environment = "development"
    service_name: str = "platform"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/yibao"
    # Connections (docs/architecture.md, "Health, readiness and operations"): a process opens at most
    # `database_pool_size` pooled connections plus one for the relay's LISTEN; at rest it keeps
    # `database_pool_min_idle` of them and closes the others once idle `database_pool_idle_s`.
    database_pool_size: int = Field(10, ge=1)
    database_pool_min_idle: int = Field(1, ge=0)
    database_pool_idle_s: float = Field(30.0, gt=0)
    # True when `database_url` is a PgBouncer in transaction mode (deploy/k8s/README.md): each
    # transaction may run on another server connection, so the engine keeps nothing on one between
    # transactions (shared.db.make_engine).
    # How long a request waits for one of `database_request_connections` before a 503 `busy`.
    database_request_wait_s: float = Field(30.0, gt=0)
    database_pgbouncer: bool = False
    # The relay's LISTEN holds a session, which a transaction-mode PgBouncer cannot give: with one,
    # this URL goes straight to PostgreSQL. Absent: `database_url`.
    database_listen_url: str | None = None
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Names every exchange and queue: a test run or a second deployment uses its own.
    broker_namespace: str = "yibao"
    # How long the client waits between reconnect attempts while the broker is away (each process
    # adds up to ±20 % so replicas do not all knock at once when it returns).
    broker_reconnect_interval_s: float = Field(1.0, gt=0)
    # Unacknowledged deliveries the consumer takes at once. One worker applies what has arrived (up to
    # this many) in one transaction, holding one pooled connection whatever the prefetch; measured
    # (bench/README.md): CPU per event falls steeply up to about 32 and is flat beyond 128.
    consumer_prefetch: int = Field(64, ge=1)
    consumer_max_attempts: int = 5
    consumer_retry_delays_ms: list[int] = Field(default_factory=lambda: [1_000, 5_000, 30_000])
    outbox_batch_size: int = 500
    # After the first event arrives, how long the relay and the consumer wait for the ones just behind
    # it to join its batch (one transaction, one publish round): at a steady trickle of events this
    # trades a few milliseconds of delivery for far less CPU per event (bench/README.md).
    event_linger_ms: float = Field(10.0, ge=0, le=1000)
    outbox_poll_interval_s: float = 1.0
    # Above this many unsent events the service reports itself degraded (on /health, never on
    # /health/ready: the outbox is what lets the API keep working while events cannot leave).
    outbox_backlog_degraded_limit: int = 10_000
    # How often periodic jobs (deadline scans) run.
    periodic_interval_s: float = 60.0
    # How long the ops page's deadline and peer figures may be reused (their queries may scan open cases).
    ops_probe_cache_s: float = 5.0
    auth_issuer: str = "https://auth.yibao.local"
    auth_audience: str = "yibao-platform"
    auth_algorithm: Literal["ES256", "RS256", "EdDSA"] = "ES256"
    auth_jwks_file: Path | None = None
    auth_jwks_url: str | None = None
    # Keyed pseudonyms for persons (see shared.identity.person_id_for). Development value only.
    person_id_key: str = DEVELOPMENT_PERSON_KEY
    business_date: date | None = None
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def consumer_concurrency(self) -> int:
        """The prefetch the consumer asks the broker for (its batches are at most this large)."""
        return self.consumer_prefetch

    @property
    def database_request_connections(self) -> int:
        """Transactions HTTP requests may hold at once: the pool less the background's share, so a
        burst of requests never starves the relay, the audit or the consumer."""
        return max(1, self.database_pool_size - DATABASE_BACKGROUND_CONNECTIONS)

    @model_validator(mode="after")
    def _production_has_its_own_person_key(self) -> CommonSettings:
        # Person ids derived with a published key could be recomputed from a list of ID numbers.
        if self.environment == "production" and self.person_id_key == DEVELOPMENT_PERSON_KEY:
            raise ValueError("production needs its own YB_PERSON_ID_KEY (the development key is public)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        common = EnvSettingsSource(settings_cls, env_prefix="YB_")
        return init_settings, env_settings, common, dotenv_settings, file_secret_settings


def service_settings_config(service: str) -> SettingsConfigDict:
    """The model_config of a service's settings class: its own prefix, e.g. YB_CLAIMS_."""
    return SettingsConfigDict(env_prefix=f"YB_{service.upper()}_", extra="ignore")
