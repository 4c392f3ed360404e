from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = "Реестр"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal.lib.search import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="portal_fold")
