from django.core.management.base import BaseCommand

from demo.keeping import seed_keeping
from demo.members import seed_member_history
from demo.registry import DEMO_PASSWORD, DEMO_USERS, seed_registry
from demo.table1 import seed_table1_history
from demo.tokens import demo_api_token_ensure, demo_tokens_ensure
from metrics.collect.schedule import collection_schedule_ensure
from reports.exports.cleanup import export_cleanup_schedule_ensure
from reports.workflow.reminders import reminder_schedule_ensure


class Command(BaseCommand):
    help = "Создаёт демонстрационный регион (повторный запуск ничего не дублирует)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="зерно генератора")

    def handle(self, *args, seed: int, **options):
        counts = seed_registry(seed=seed)
        # Each later part of the demo is idempotent too.
        demo_tokens_ensure()  # VK/OK tokens the emulator accepts, so «Собрать сейчас» works
        history = seed_member_history()  # a year of daily members for rankings and charts
        self.stdout.write(f"История участников: +{history['snapshots']} записей, "
                          f"показатели вовлечённости: +{history['values']}.")
        keeping = seed_keeping()  # page fields and three months of posts for the quality index
        self.stdout.write(f"Оформление сообществ: {keeping['described']}, записи: "
                          f"+{keeping['posts']}.")
        table1 = seed_table1_history()  # two years of Table 1 with reports in every state
        # The periodic tasks are also created by migrations; these calls only add missing ones.
        reminder_schedule_ensure()
        export_cleanup_schedule_ensure()
        collection_schedule_ensure()
        self.stdout.write(f"Таблица 1: +{table1['values']} значений, "
                          f"+{table1['reports']} отчётов.")
        self.stdout.write(
            f"Демо-регион: {counts['territories']} территорий, "
            f"{counts['institutions']} учреждений, {counts['communities']} сообществ."
        )
        self.stdout.write(f"Демо-учётные записи (пароль для всех: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.username:<10} {user.label}")
        self._report_api_token(demo_api_token_ensure())

    def _report_api_token(self, key: str | None) -> None:
        if key:
            self.stdout.write(f"Токен API пользователя api (показывается один раз): {key}")
            self.stdout.write("  curl -H 'Authorization: Token <токен>' "
                              "http://127.0.0.1:8000/api/v1/territories/")
        else:
            self.stdout.write("Токен API пользователя api выдан раньше; новый — в профиле "
                              "(«Профиль» → «Токены API») или POST /api/v1/tokens/obtain/.")
