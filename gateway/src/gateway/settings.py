from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings, service_settings_config


class GatewaySettings(CommonSettings):
    model_config = service_settings_config("gateway")
    service_name: str = "gateway"
    # service name → base URL; several URLs per service are balanced round-robin.
    upstreams: dict[str, str | list[str]] = Field(default_factory=dict)
    interop_service: str = "transfer"
    key_dir: Path = Path(".data/keys")
    # The built-in development issuer signs tokens for the demo accounts; production refuses it.
    dev_issuer: bool = True
    token_ttl_s: int = 3600
    upstream_timeout_s: float = 30.0
    upstream_connect_timeout_s: float = 3.0
    max_body_bytes: int = 10 * 1024 * 1024
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100
    # Paths any caller may reach without a token (prefix match).
    public_prefixes: list[str] = Field(
        default_factory=lambda: ["/api/v1/facility/public/", "/api/v1/facility/offices", "/api/v1/facility/catalogue"]
    )
    # How often the ops page (/ops) reads the status again; `?refresh=2` in its address overrides it.
    ops_refresh_s: float = 5.0
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
