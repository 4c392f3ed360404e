"""Half of every page of the communities' table kept free for the next versions of its rows.

The daily members run rewrites every VK community's row (its members count, the time of the
collection). On a full page each new version goes to another page and into all four indexes; with
room on its page it stays there and no index is touched (a HOT update: none of the indexed
columns — id, network, network id, state, institution — changes on an ordinary day). Half,
because the run updates all the rows of a page in one transaction: their old versions are freed
only after it, so a page needs room for a second copy of each. Rows already in the table move to
such pages at their first update. PostgreSQL only; other databases have no fill factor.
"""

from django.db import migrations


def _fillfactor(setting: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            table = schema_editor.quote_name(apps.get_model("institutions", "Community")
                                             ._meta.db_table)
            schema_editor.execute(f"ALTER TABLE {table} {setting}")

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("institutions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_fillfactor("SET (fillfactor = 50)"), _fillfactor("RESET (fillfactor)"),
                             elidable=False),
    ]
