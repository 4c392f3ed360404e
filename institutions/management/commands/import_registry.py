"""``python manage.py import_registry FILE [--dry-run] [--user NAME]``: the registry from .xlsx."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from institutions.imports import plan_as_text
from institutions.services import registry_import
from portal.errors import PortalError


class Command(BaseCommand):
    help = (
        "Импорт реестра учреждений и сообществ из .xlsx. Сначала печатает, что будет создано, "
        "обновлено, оставлено без изменений и отклонено; затем записывает всё разом "
        "(или ничего, если хоть одна строка отклонена)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="путь к файлу .xlsx")
        parser.add_argument(
            "--dry-run", action="store_true", help="только показать план, ничего не записывать"
        )
        parser.add_argument(
            "--user", help="логин регионального методиста, от имени которого пишется история"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"]) if options["user"] else None
        try:
            plan = registry_import(file=options["file"], user=user, dry_run=options["dry_run"])
        except PortalError as exc:
            raise CommandError(exc.message) from exc
        for line in plan_as_text(plan):
            self.stdout.write(line)
        if plan.is_rejected:
            raise CommandError(
                f"Импорт отклонён: строк с ошибками — {len(plan.rejected_rows)}. "
                "Ничего не записано; исправьте файл и повторите."
            )
        if plan.dry_run:
            self.stdout.write("Пробный запуск (--dry-run): ничего не записано.")
        else:
            self.stdout.write(self.style.SUCCESS("Импорт выполнен."))

    def _user(self, username: str) -> Any:
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Пользователь «{username}» не найден.") from exc
