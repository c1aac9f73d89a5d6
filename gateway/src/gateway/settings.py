from pathlib import Path

from pydantic import Field, model_validator

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
    # Access tokens are short-lived; apps keep a session with the refresh token (8 hours, a working day).
    token_ttl_s: int = 900
    refresh_ttl_s: int = 8 * 3600
    upstream_timeout_s: float = 30.0
    upstream_connect_timeout_s: float = 3.0
    max_body_bytes: int = 10 * 1024 * 1024
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100
    # Other offices on /interop/v1 are not held to the per-address limit above (they are verified by
    # signature and limited per office by the transfer service); only a ceiling per address against
    # floods of unsigned junk, far above what a peer sends.
    interop_address_rate_per_s: float = Field(500.0, gt=0)
    interop_address_burst: int = Field(2000, ge=1)
    # Paths any caller may reach without a token (prefix match).
    public_prefixes: list[str] = Field(
        default_factory=lambda: [
            "/api/v1/facility/public/",
            "/api/v1/facility/offices",
            "/api/v1/facility/catalogue",
            "/api/v1/transfer/public/",  # checking a 参保凭证's verification code
        ]
    )
    # How often the ops page (/ops) reads the status again; `?refresh=2` in its address overrides it.
    ops_refresh_s: float = 5.0
    # The insured person's "my cases" events (/api/v1/me/cases/events): how often the services are read
    # again for changes, and how long one stream stays open before the app reconnects.
    my_cases_poll_s: float = Field(5.0, gt=0)
    my_cases_stream_s: float = Field(300.0, gt=0)
    # Origins whose pages may call the API from a browser (exact): the WeChat mini program's by
    # default; the staff pages are served by the gateway itself and need none.
    cors_origins: list[str] = Field(default_factory=lambda: ["https://servicewechat.com"])
    # Sign-in: attempts per address per minute; failures within the window that lock an account,
    # and for how long.
    signin_per_address_per_min: int = 60
    signin_max_failures: int = 5
    signin_failure_window_s: float = 900.0
    signin_lockout_s: float = 900.0
    # The gateway's own endpoints (sign-in, calendar, docs, ops...) per client address.
    own_rate_limit_per_s: float = 50.0
    own_rate_limit_burst: int = 100
    # The ingress's addresses (CIDR): only their X-Forwarded-For is believed for the client address.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Where /metrics and the detailed /health may be read from without a token (straight, no proxy):
    # the cluster's and the machine's own networks.
    internal_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )
    # A test platform's extra accounts (people the end-to-end tests make up, other regions' staff),
    # written by the tests as they mint tokens (shared.testing.tokens). Unset: only the demo accounts.
    # A token of a subject listed nowhere is refused in every environment; production refuses the file.
    test_accounts_file: Path | None = None
    # Sign-in of the staff pages through the office's identity provider (OpenID Connect, code + PKCE;
    # gateway/oidc.py): its issuer URL (discovery at <issuer>/.well-known/openid-configuration), the
    # gateway's client id there, its secret if the provider makes it a confidential client, and the
    # callback address registered with it (https://<host>/api/v1/auth/oidc/callback). Unset: no such
    # sign-in. The provider's access tokens must follow the token contract (docs/integrators.md).
    oidc_issuer: str | None = None
    oidc_client_id: str = "yibao-staff-pages"
    oidc_client_secret: str | None = None
    oidc_redirect_uri: str | None = None
    oidc_scope: str = "openid"

    @model_validator(mode="after")
    def _edge_is_closed_in_production(self) -> "GatewaySettings":
        if self.environment == "production" and ("*" in self.cors_origins or self.test_accounts_file):
            raise ValueError("production allows no CORS wildcard and no test account file")
        if self.oidc_issuer and not self.oidc_redirect_uri:
            raise ValueError("YB_GATEWAY_OIDC_REDIRECT_URI is required with YB_GATEWAY_OIDC_ISSUER")
        return self
