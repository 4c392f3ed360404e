from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region loader: above every layer, since it fills them all."""

    name = "demo"
    verbose_name = "Демо-регион"
