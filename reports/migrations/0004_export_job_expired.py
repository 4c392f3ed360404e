from django.db import migrations, models


def ensure_schedules(apps, schema_editor):
    """The daily export cleanup, and the collection's later periodic tasks on databases whose
    collection schedule migration ran before they existed (both idempotent)."""
    from metrics.collect.schedule import collection_schedule_ensure
    from reports.exports.cleanup import export_cleanup_schedule_ensure

    models_ = {
        "periodic_task_model": apps.get_model("django_celery_beat", "PeriodicTask"),
        "crontab_model": apps.get_model("django_celery_beat", "CrontabSchedule"),
    }
    export_cleanup_schedule_ensure(**models_)
    collection_schedule_ensure(**models_)


class Migration(migrations.Migration):
    """Export jobs whose file was deleted after the retention period become «expired»."""

    dependencies = [
        ("reports", "0003_reminder_schedule"),
        ("metrics", "0003_collection_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="exportjob",
            name="export_job_state_valid",
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="state",
            field=models.CharField(
                choices=[("pending", "в очереди"), ("running", "выполняется"),
                         ("done", "готово"), ("failed", "ошибка"),
                         ("expired", "файл удалён: срок хранения истёк")],
                default="pending", max_length=16, verbose_name="состояние"),
        ),
        migrations.AddConstraint(
            model_name="exportjob",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["pending", "running", "done", "failed",
                                                  "expired"])),
                name="export_job_state_valid"),
        ),
        migrations.RunPython(ensure_schedules, migrations.RunPython.noop),
    ]
