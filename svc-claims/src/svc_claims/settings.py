from pydantic import Field

from shared.settings import CommonSettings, service_settings_config


class ClaimsSettings(CommonSettings):
    model_config = service_settings_config("claims")
    service_name: str = "claims"
    # Sample policy data (values the documents do not give, marked `sample`) may be quoted, flagged, but
    # never approved or paid: only a demo deployment sets YB_CLAIMS_ALLOW_SAMPLE_POLICY_DATA=true.
    allow_sample_policy_data: bool = False
    # The pooling region (统筹区) whose policies this deployment applies: 120000 Tianjin, 130200 Tangshan …
    region: str = Field("120000", pattern=r"^[0-9]{6}$")


def sample_allowed(settings: CommonSettings) -> bool:
    """Whether this deployment pays bills computed with sample policy data (demos only)."""
    return isinstance(settings, ClaimsSettings) and settings.allow_sample_policy_data
