from shared.settings import CommonSettings, service_settings_config


class FacilitySettings(CommonSettings):
    model_config = service_settings_config("facility")
    service_name: str = "facility"
