from shared.settings import CommonSettings, service_settings_config


class SettlementSettings(CommonSettings):
    model_config = service_settings_config("settlement")
    service_name: str = "settlement"
