from django.core.management.base import BaseCommand, CommandError

from metrics.collect.members_month import members_month_record, previous_month
from portal.errors import ValidationFailed
from portal.lib.months import month_label, parse_month


class Command(BaseCommand):
    help = ("Заполняет «Количество участников» Таблицы 1 за месяц по ежедневным записям "
            "участников (запись последнего дня месяца или ближайшая более ранняя). "
            "Утверждённые отчёты не меняются; повторный запуск ничего не меняет.")

    def add_arguments(self, parser):
        parser.add_argument("--month", default="",
                            help="месяц ГГГГ-ММ (по умолчанию — прошлый месяц)")

    def handle(self, *args, month: str, **options):
        try:
            target = parse_month(month) if month else previous_month()
            result = members_month_record(month=target)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{month_label(result.month).capitalize()}: сообществ с записями "
                          f"участников — {result.communities}, изменено значений — "
                          f"{result.rows_changed}.")
