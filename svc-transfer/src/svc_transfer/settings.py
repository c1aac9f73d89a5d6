from shared.settings import CommonSettings, service_settings_config


class TransferSettings(CommonSettings):
    model_config = service_settings_config("transfer")
    service_name: str = "transfer"
