from django.core.management.base import BaseCommand

from institutions.demo import DEMO_PASSWORD, DEMO_USERS, seed_registry


class Command(BaseCommand):
    help = "Создаёт демонстрационный регион (повторный запуск ничего не дублирует)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="зерно генератора")

    def handle(self, *args, seed: int, **options):
        counts = seed_registry(seed=seed)
        # Later parts of the demo (metrics history, reports) are added here, each idempotent.
        from metrics.demo_tokens import demo_tokens_ensure

        demo_tokens_ensure()  # VK/OK tokens the emulator accepts, so «Собрать сейчас» works
        from metrics.demo import seed_member_history

        history = seed_member_history()  # a year of daily members for rankings and charts
        self.stdout.write(f"История участников: +{history['snapshots']} записей, "
                          f"показатели вовлечённости: +{history['values']}.")
        from metrics.collect.schedule import collection_schedule_ensure
        from reports.demo import seed_table1_history
        from reports.export_cleanup import export_cleanup_schedule_ensure
        from reports.reminders import reminder_schedule_ensure

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
