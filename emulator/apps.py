from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    """A development and test tool: installed only for its ``network_emulator`` command."""

    name = "emulator"
    verbose_name = "Эмулятор VK/OK"
