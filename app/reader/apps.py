from django.apps import AppConfig


class ReaderConfig(AppConfig):
    name = "reader"
    verbose_name = "Reader"

    def ready(self) -> None:
        # Connect the signal receivers: login throttling and token revocation.
        from . import signals, throttle  # noqa: F401
