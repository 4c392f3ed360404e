from django.db import migrations


def ensure_schedule(apps, schema_editor):
    from reports.workflow.reminders import reminder_schedule_ensure

    reminder_schedule_ensure(
        periodic_task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    """Register the daily reminder e-mails with django-celery-beat (idempotent)."""

    dependencies = [
        ("reports", "0002_published_rankings_export_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(ensure_schedule, migrations.RunPython.noop)]
