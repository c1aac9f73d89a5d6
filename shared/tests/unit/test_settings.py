from shared.settings import CommonSettings, service_settings_config


class ClaimsLike(CommonSettings):
    model_config = service_settings_config("claims")


def test_a_service_reads_its_own_prefix_first_then_the_common_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YB_BROKER_URL", "amqp://common/")
    monkeypatch.setenv("YB_DATABASE_URL", "postgresql+asyncpg://common/db")
    monkeypatch.setenv("YB_CLAIMS_DATABASE_URL", "postgresql+asyncpg://yb_claims@host/db")
    settings = ClaimsLike()
    assert settings.database_url == "postgresql+asyncpg://yb_claims@host/db"
    assert settings.broker_url == "amqp://common/"


def test_lists_and_dates_come_from_json_and_iso_text(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YB_CLAIMS_CONSUMER_RETRY_DELAYS_MS", "[100, 200]")
    monkeypatch.setenv("YB_BUSINESS_DATE", "2026-10-10")
    settings = ClaimsLike()
    assert settings.consumer_retry_delays_ms == [100, 200]
    assert str(settings.business_date) == "2026-10-10"


def test_production_refuses_a_business_date_override(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime

    import pytest

    from shared.auth.issuer import JWKS_FILE, DevIssuer
    from shared.clock import BusinessDateClock, ClockOverrideRefused
    from shared.service import build_runtime

    DevIssuer.load_or_create(tmp_path, "https://auth.test", "aud")
    day = datetime.date(2026, 10, 10)
    staging = CommonSettings(environment="staging", business_date=day, auth_jwks_file=tmp_path / JWKS_FILE)
    runtime = build_runtime("claims", staging, [])
    assert isinstance(runtime.clock, BusinessDateClock) and runtime.clock.today() == day
    production = CommonSettings(
        environment="production",
        business_date=day,
        auth_jwks_file=tmp_path / JWKS_FILE,
        person_id_key="a-key-of-this-deployment-only",
    )
    with pytest.raises(ClockOverrideRefused):
        build_runtime("claims", production, [])


def test_production_refuses_the_development_person_key() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="YB_PERSON_ID_KEY"):
        CommonSettings(environment="production")
    assert (
        CommonSettings(environment="production", person_id_key="a-key-of-this-deployment-only").environment
        == "production"
    )
    assert CommonSettings(environment="development").person_id_key.startswith("development")
