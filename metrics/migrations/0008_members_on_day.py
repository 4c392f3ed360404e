"""Members on every day: a carry-forward of the snapshots, partitioned by month, kept by triggers.

``metrics_membersonday`` has a row per community per day from the community's first snapshot
to the horizon (the latest day any snapshot has): the members of its latest snapshot on or
before that day and that snapshot's date. A ranking reads a day's figure of every community as
one direct lookup instead of searching each community's history for its nearest earlier row.

On PostgreSQL the table is partitioned by month (``metrics_membersonday_y2026m11``), so old
months can be detached or dropped, vacuumed and backed up apart. Statement-level triggers with
transition tables on ``metrics_membersnapshot`` keep it exact for every writer (the collector's
``INSERT … ON CONFLICT``, ``bulk_create``, ``save``, COPY, deletes and TRUNCATE):

- a snapshot written on day D sets its community's rows from D to the day before its next
  snapshot (or the horizon);
- a snapshot past the horizon first carries every community's row of the horizon forward to
  that day (once a day, under an advisory lock, creating the month's partition if needed);
- a snapshot removed hands its days to the community's previous snapshot, or drops them.

``metrics_members_on_day_rebuild()`` builds the table from the snapshots in one statement (this
migration, and bulk loaders, which set ``metrics.members_on_day_deferred`` for their COPY). Other databases (the
SQLite demo) get a plain, empty table; their rankings read the snapshots.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = """
CREATE TABLE metrics_membersonday (
    date date NOT NULL,
    community_id bigint NOT NULL,
    members integer NOT NULL CHECK (members >= 0),
    observed_on date NOT NULL,
    PRIMARY KEY (date, community_id)
) PARTITION BY RANGE (date);
"""

FUNCTIONS = """
CREATE FUNCTION metrics_members_on_day_partition_name(day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'metrics_membersonday_' || to_char(day, '"y"YYYY"m"MM') $$;

CREATE FUNCTION metrics_members_on_day_partitions(first date, last date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    month date := date_trunc('month', first)::date;
    name text;
BEGIN
    WHILE month <= last LOOP
        name := metrics_members_on_day_partition_name(month);
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF metrics_membersonday'
                           ' FOR VALUES FROM (%L) TO (%L)',
                           name, month, (month + interval '1 month')::date);
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
END $$;

-- Make room for snapshots dated first..last: their months' partitions and, past the horizon,
-- every community's row carried forward to last. Returns the horizon after that.
CREATE FUNCTION metrics_members_on_day_reach(first date, last date) RETURNS date
LANGUAGE plpgsql AS $$
DECLARE
    horizon date := (SELECT max(date) FROM metrics_membersonday);
BEGIN
    IF first IS NULL THEN
        RETURN horizon;
    END IF;
    IF last <= horizon
       AND to_regclass(metrics_members_on_day_partition_name(first)) IS NOT NULL THEN
        RETURN horizon;  -- every day's partition from first to the horizon exists
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('metrics_membersonday'));
    horizon := (SELECT max(date) FROM metrics_membersonday);
    PERFORM metrics_members_on_day_partitions(least(first, horizon + 1),
                                              greatest(last, horizon));
    IF last > horizon THEN
        INSERT INTO metrics_membersonday (date, community_id, members, observed_on)
        SELECT g.day::date, d.community_id, d.members, d.observed_on
        FROM generate_series((horizon + 1)::timestamp, last::timestamp, interval '1 day')
             AS g(day)
        CROSS JOIN metrics_membersonday d
        WHERE d.date = horizon
        ORDER BY 1, 2;
    END IF;
    RETURN greatest(horizon, last);
END $$;

-- A bulk loader may set metrics.members_on_day_deferred to 'on' for its transaction and call
-- the rebuild after its COPY instead.
CREATE FUNCTION metrics_members_on_day_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon date;
BEGIN
    IF current_setting('metrics.members_on_day_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    __ADDED__
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_members_on_day_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon date;
BEGIN
    __REMOVED__
    __ADDED__
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_members_on_day_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon date;
BEGIN
    __REMOVED__
    RETURN NULL;
END $$;

-- A TRUNCATE that lists both tables (Django's flush) has emptied the days already, and may not
-- truncate them again while it runs.
CREATE FUNCTION metrics_members_on_day_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM metrics_membersonday) THEN
        TRUNCATE metrics_membersonday;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION metrics_members_on_day_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date;
    last date;
BEGIN
    TRUNCATE metrics_membersonday;
    SELECT min(date), max(date) INTO first, last FROM metrics_membersnapshot;
    IF first IS NULL THEN
        RETURN;
    END IF;
    PERFORM metrics_members_on_day_partitions(first, last);
    INSERT INTO metrics_membersonday (date, community_id, members, observed_on)
    SELECT g.day::date, s.community_id, s.members, s.date
    FROM (SELECT community_id, date, members,
                 lead(date) OVER (PARTITION BY community_id ORDER BY date) AS next
          FROM metrics_membersnapshot) AS s
    CROSS JOIN LATERAL generate_series(s.date::timestamp,
                                       COALESCE(s.next - 1, last)::timestamp,
                                       interval '1 day') AS g(day)
    ORDER BY 1, 2;
END $$;

CREATE TRIGGER member_snapshot_days_insert AFTER INSERT ON metrics_membersnapshot
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_members_on_day_insert();
CREATE TRIGGER member_snapshot_days_update AFTER UPDATE ON metrics_membersnapshot
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_members_on_day_update();
CREATE TRIGGER member_snapshot_days_delete AFTER DELETE ON metrics_membersnapshot
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_members_on_day_delete();
CREATE TRIGGER member_snapshot_days_truncate AFTER TRUNCATE ON metrics_membersnapshot
    FOR EACH STATEMENT EXECUTE FUNCTION metrics_members_on_day_truncate();
"""

# Snapshots written: each sets its community's days up to its next snapshot (or the horizon).
ADDED = """
    horizon := metrics_members_on_day_reach((SELECT min(date) FROM added),
                                            (SELECT max(date) FROM added));
    INSERT INTO metrics_membersonday AS d (date, community_id, members, observed_on)
    SELECT g.day::date, a.community_id, a.members, a.date
    FROM added a
    CROSS JOIN LATERAL generate_series(
        a.date::timestamp,
        -- no snapshot lies past the horizon: a day's collection (date = horizon) looks nothing up
        COALESCE(CASE WHEN a.date < horizon THEN
                     (SELECT min(s.date) - 1 FROM metrics_membersnapshot s
                      WHERE s.community_id = a.community_id AND s.date > a.date) END,
                 horizon)::timestamp,
        interval '1 day') AS g(day)
    ORDER BY 1, 2
    ON CONFLICT (date, community_id) DO UPDATE
        SET members = EXCLUDED.members, observed_on = EXCLUDED.observed_on
        WHERE d.members <> EXCLUDED.members OR d.observed_on <> EXCLUDED.observed_on;
"""

# Snapshots gone (deleted, or moved by an UPDATE): their days go to the previous snapshot.
REMOVED = """
    horizon := (SELECT max(date) FROM metrics_membersonday);
    WITH gone AS (
        SELECT r.community_id, g.day::date AS day, p.date AS prev_date, p.members AS prev_members
        FROM (SELECT * FROM removed r WHERE NOT EXISTS (
                  SELECT 1 FROM metrics_membersnapshot s
                  WHERE s.community_id = r.community_id AND s.date = r.date)) AS r
        LEFT JOIN LATERAL (SELECT s.date, s.members FROM metrics_membersnapshot s
                           WHERE s.community_id = r.community_id AND s.date < r.date
                           ORDER BY s.date DESC LIMIT 1) AS p ON TRUE
        CROSS JOIN LATERAL generate_series(
            r.date::timestamp,
            COALESCE((SELECT min(s.date) - 1 FROM metrics_membersnapshot s
                      WHERE s.community_id = r.community_id AND s.date > r.date),
                     horizon)::timestamp,
            interval '1 day') AS g(day)
    ), dropped AS (
        DELETE FROM metrics_membersonday d USING gone
        WHERE gone.prev_date IS NULL AND d.date = gone.day
          AND d.community_id = gone.community_id
    )
    UPDATE metrics_membersonday d
    SET members = gone.prev_members, observed_on = gone.prev_date
    FROM gone
    WHERE gone.prev_date IS NOT NULL AND d.date = gone.day
      AND d.community_id = gone.community_id;
"""

FORWARD = (TABLE + FUNCTIONS.replace("__ADDED__", ADDED).replace("__REMOVED__", REMOVED)
           + "SELECT metrics_members_on_day_rebuild();")

BACKWARD = """
DROP TRIGGER IF EXISTS member_snapshot_days_insert ON metrics_membersnapshot;
DROP TRIGGER IF EXISTS member_snapshot_days_update ON metrics_membersnapshot;
DROP TRIGGER IF EXISTS member_snapshot_days_delete ON metrics_membersnapshot;
DROP TRIGGER IF EXISTS member_snapshot_days_truncate ON metrics_membersnapshot;
DROP FUNCTION IF EXISTS metrics_members_on_day_insert();
DROP FUNCTION IF EXISTS metrics_members_on_day_update();
DROP FUNCTION IF EXISTS metrics_members_on_day_delete();
DROP FUNCTION IF EXISTS metrics_members_on_day_truncate();
DROP FUNCTION IF EXISTS metrics_members_on_day_rebuild();
DROP FUNCTION IF EXISTS metrics_members_on_day_reach(date, date);
DROP FUNCTION IF EXISTS metrics_members_on_day_partitions(date, date);
DROP FUNCTION IF EXISTS metrics_members_on_day_partition_name(date);
DROP TABLE IF EXISTS metrics_membersonday;
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)
    else:
        schema_editor.create_model(apps.get_model("metrics", "MembersOnDay"))


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)
    else:
        schema_editor.delete_model(apps.get_model("metrics", "MembersOnDay"))


class Migration(migrations.Migration):

    dependencies = [
        ("institutions", "0002_community_fillfactor"),
        ("metrics", "0007_backfill_community_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MembersOnDay",
                    fields=[
                        ("pk", models.CompositePrimaryKey(
                            "date", "community", blank=True, editable=False, primary_key=True,
                            serialize=False)),
                        ("date", models.DateField(verbose_name="дата")),
                        ("members", models.PositiveIntegerField(verbose_name="участников")),
                        ("observed_on", models.DateField(verbose_name="дата снимка")),
                        ("community", models.ForeignKey(
                            db_constraint=False, db_index=False,
                            on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                            to="institutions.community", verbose_name="сообщество")),
                    ],
                    options={
                        "verbose_name": "участники на день",
                        "verbose_name_plural": "участники на день",
                    },
                ),
            ],
        ),
        # After the state has the model (other databases create its table from it).
        migrations.RunPython(create, drop, elidable=False),
    ]
