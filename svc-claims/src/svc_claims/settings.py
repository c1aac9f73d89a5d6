from shared.settings import CommonSettings, service_settings_config


class ClaimsSettings(CommonSettings):
    model_config = service_settings_config("claims")
    service_name: str = "claims"
