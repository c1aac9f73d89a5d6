from datetime import datetime
from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings, service_settings_config


class TransferSettings(CommonSettings):
    model_config = service_settings_config("transfer")
    service_name: str = "transfer"
    # This deployment's office in the inter-office exchange (administrative division code).
    office_code: str = Field("120000", pattern=r"^\d{6}$")
    office_name: str = "天津市医疗保障基金管理中心"
    # This office's private signing key (created on first use) and the peers it exchanges with.
    signing_key_file: Path = Path(".data/keys/interop-signing.pem")
    peers_file: Path | None = None
    # Key rotation: the next key is published at once and signs from `signing_key_switch_at` on (the
    # overlap gives peers time to configure it); afterwards it becomes the signing key file.
    signing_next_key_file: Path | None = None
    signing_key_switch_at: datetime | None = None
    # A message signed longer ago than this is refused (replay protection); clocks must agree to it.
    interop_max_age_s: float = 300.0
    interop_timeout_s: float = 10.0
    interop_delivery_interval_s: float = 2.0
    # Back-off between attempts to a peer that is down: doubling from the first, capped.
    interop_retry_first_s: float = 2.0
    interop_retry_max_s: float = 600.0
    # Each peer office's allowance of messages (after its signature is verified): 429 + Retry-After beyond.
    interop_peer_rate_per_s: float = Field(10.0, gt=0)
    interop_peer_burst: int = Field(100, ge=1)
    # Attempts before a message is given up ("dead") and its case flagged: about a day at the cap.
    interop_max_attempts: int = Field(150, ge=1)
