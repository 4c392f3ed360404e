"""The values list's index and per-community value counts kept by PostgreSQL triggers.

``metrics_valuecount`` holds, per community, how many ``metrics_metricvalue`` rows it has.
Statement-level triggers with transition tables keep it exact for every INSERT (``save``,
``bulk_create``, COPY), DELETE and TRUNCATE, and a row trigger follows the (never expected)
move of a value to another community. Other databases get the table but no triggers; the
selector counts the values there.
"""

import django.db.models.deletion
from django.db import migrations, models

FUNCTIONS = """
CREATE FUNCTION metrics_value_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metrics_valuecount AS c (community_id, "rows")
    SELECT community_id, count(*) FROM added GROUP BY community_id ORDER BY community_id
    ON CONFLICT (community_id) DO UPDATE SET "rows" = c."rows" + EXCLUDED."rows";
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_value_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE metrics_valuecount AS c SET "rows" = c."rows" - gone.n
    FROM (SELECT community_id, count(*) AS n FROM removed GROUP BY community_id) AS gone
    WHERE c.community_id = gone.community_id;
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_value_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE metrics_valuecount SET "rows" = "rows" - 1 WHERE community_id = OLD.community_id;
    INSERT INTO metrics_valuecount AS c (community_id, "rows") VALUES (NEW.community_id, 1)
    ON CONFLICT (community_id) DO UPDATE SET "rows" = c."rows" + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_value_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM metrics_valuecount;
    RETURN NULL;
END $$;

CREATE TRIGGER metric_value_count_insert AFTER INSERT ON metrics_metricvalue
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_value_count_insert();
CREATE TRIGGER metric_value_count_delete AFTER DELETE ON metrics_metricvalue
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_value_count_delete();
CREATE TRIGGER metric_value_count_move AFTER UPDATE OF community_id ON metrics_metricvalue
    FOR EACH ROW WHEN (OLD.community_id IS DISTINCT FROM NEW.community_id)
    EXECUTE FUNCTION metrics_value_count_move();
CREATE TRIGGER metric_value_count_truncate AFTER TRUNCATE ON metrics_metricvalue
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_value_count_truncate();

INSERT INTO metrics_valuecount (community_id, "rows")
SELECT community_id, count(*) FROM metrics_metricvalue GROUP BY community_id;
"""

DROP = """
DROP TRIGGER IF EXISTS metric_value_count_insert ON metrics_metricvalue;
DROP TRIGGER IF EXISTS metric_value_count_delete ON metrics_metricvalue;
DROP TRIGGER IF EXISTS metric_value_count_move ON metrics_metricvalue;
DROP TRIGGER IF EXISTS metric_value_count_truncate ON metrics_metricvalue;
DROP FUNCTION IF EXISTS metrics_value_count_insert();
DROP FUNCTION IF EXISTS metrics_value_count_delete();
DROP FUNCTION IF EXISTS metrics_value_count_move();
DROP FUNCTION IF EXISTS metrics_value_count_truncate();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("institutions", "0001_initial"),
        ("metrics", "0003_collection_schedule"),
    ]

    operations = [
        migrations.CreateModel(
            name="ValueCount",
            fields=[
                ("community", models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                    related_name="+", serialize=False, to="institutions.community",
                    verbose_name="сообщество")),
                ("rows", models.BigIntegerField(default=0, verbose_name="значений")),
            ],
            options={
                "verbose_name": "число значений сообщества",
                "verbose_name_plural": "число значений сообществ",
            },
        ),
        migrations.AddIndex(
            model_name="metricvalue",
            index=models.Index(fields=["-month", "community", "indicator"],
                               name="metric_value_list_idx"),
        ),
        migrations.RunPython(_on_postgresql(FUNCTIONS), _on_postgresql(DROP), elidable=False),
    ]
