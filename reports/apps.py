from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Отчёты и рейтинги"

    def ready(self) -> None:
        # metrics (the layer below) asks the workflow through a fact it owns; see metrics.locks.
        from metrics.locks import effective_values_changed, month_locks_provide
        from reports.workflow.locks import report_month_locks, reports_touch

        month_locks_provide(report_month_locks)
        effective_values_changed.connect(reports_touch, dispatch_uid="reports_touch")
