"""Date the deletions recorded before communities had a history.

A community already marked deleted was active until its last collected day: without this, a
past period would show it deleted. Communities with no member rows keep no history (always as
they are now).
"""

import datetime as dt

from django.db import migrations
from django.db.models import Max

SINCE_ALWAYS = dt.date(1900, 1, 1)


def date_known_deletions(apps, schema_editor):
    community = apps.get_model("institutions", "Community")
    history = apps.get_model("institutions", "CommunityHistory")
    gone = (community.objects.filter(state="deleted", history_rows__isnull=True)
            .annotate(last=Max("snapshots__date")).filter(last__isnull=False)
            .values_list("pk", "title", "last"))
    rows = []
    for pk, title, last in gone.iterator(chunk_size=2000):
        rows += [history(community_id=pk, valid_from=SINCE_ALWAYS, state="active", title=title),
                 history(community_id=pk, valid_from=last + dt.timedelta(days=1),
                         state="deleted", title=title)]
    history.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0006_anomalies"),
        ("institutions", "0003_community_history"),
    ]

    operations = [
        migrations.RunPython(date_known_deletions, migrations.RunPython.noop),
    ]
