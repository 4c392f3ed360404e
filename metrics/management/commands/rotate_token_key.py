"""Re-encrypt the stored VK/OK tokens under the first key of TOKEN_ENCRYPTION_KEYS.

    python manage.py rotate_token_key --generate   # print a new Fernet key
    python manage.py rotate_token_key              # re-encrypt every token under the first key
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.tokens import tokens_reencrypt


class Command(BaseCommand):
    help = ("Перешифровывает ключи VK/OK первым ключом из TOKEN_ENCRYPTION_KEYS "
            "(--generate — напечатать новый ключ Fernet).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--generate", action="store_true",
                            help="только напечатать новый ключ Fernet, ничего не меняя")

    def handle(self, *args: Any, generate: bool = False, **options: Any) -> None:
        if generate:
            self.stdout.write(Fernet.generate_key().decode())
            return
        result = tokens_reencrypt()
        self.stdout.write(f"Перешифровано ключей: {result.reencrypted}.")
        if result.undecryptable:
            ids = ", ".join(str(pk) for pk in result.undecryptable)
            raise CommandError(
                f"Ключи с id {ids} не расшифровываются ни одним ключом и оставлены как есть: "
                "добавьте прежний ключ в TOKEN_ENCRYPTION_KEYS и повторите, а если он потерян, "
                "зарегистрируйте эти ключи VK/OK заново.")
