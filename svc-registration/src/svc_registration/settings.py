from shared.settings import CommonSettings, service_settings_config


class RegistrationSettings(CommonSettings):
    model_config = service_settings_config("registration")
    service_name: str = "registration"
