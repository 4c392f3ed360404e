from django.db import migrations


def ensure_schedule(apps, schema_editor):
    from metrics.collect.schedule import collection_schedule_ensure

    collection_schedule_ensure(
        periodic_task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0002_collection_runs_and_tokens"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(ensure_schedule, migrations.RunPython.noop)]
