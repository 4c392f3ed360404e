import gc

from django.core.management.base import BaseCommand, CommandError

from emulator.faults import parse_spec
from emulator.server import make_server


class Command(BaseCommand):
    help = "Запускает эмулятор API VK и OK (для тестов, замеров и демо без сети)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, required=True, help="порт HTTP")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed", type=int, default=1, help="зерно данных")
        parser.add_argument("--faults", default="", help="сбои, например wall.get:15@0.2")
        parser.add_argument("--slow-seconds", type=float, default=15.0,
                            help="сколько «думает» сбой slow")

    def handle(self, *args, port: int, host: str, seed: int, faults: str, slow_seconds: float,
               **options):
        try:
            parse_spec(faults, slow_seconds=slow_seconds)
        except ValueError as exc:
            raise CommandError(f"Неверное описание сбоев: {exc}") from exc
        server = make_server(host=host, port=port, seed=seed, faults=faults,
                             slow_seconds=slow_seconds)
        # Django and the emulator's modules live as long as the process: the cyclic collector
        # need not walk them at every full collection (each would stall every request).
        gc.freeze()
        self.stdout.write(f"Эмулятор VK/OK слушает http://{host}:{port}/ (seed={seed})")
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
