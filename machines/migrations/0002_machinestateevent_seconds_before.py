from django.db import migrations, models

STATES = ("running", "setup", "idle", "down", "planned_down", "off_shift", "unknown")


def backfill(apps, schema_editor):
    """The running totals of the status logs already recorded (one statement on PostgreSQL)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        build = ", ".join(f"'{state}', NULLIF(SUM(seconds) FILTER (WHERE state = '{state}') OVER w, 0)"
                          for state in STATES)
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE machines_machinestateevent e SET seconds_before = t.totals
                FROM (
                    SELECT id, jsonb_strip_nulls(jsonb_build_object({build})) AS totals
                    FROM (SELECT id, machine_id, started_at, state,
                                 EXTRACT(EPOCH FROM ended_at - started_at)::float8 AS seconds
                          FROM machines_machinestateevent) d
                    WINDOW w AS (PARTITION BY machine_id ORDER BY started_at, id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                ) t
                WHERE t.id = e.id
            """)
        return
    event_model = apps.get_model("machines", "MachineStateEvent")
    for machine_id in event_model.objects.values_list("machine_id", flat=True).distinct():
        totals, changed = {}, []
        for event in event_model.objects.filter(machine_id=machine_id).order_by("started_at", "pk"):
            event.seconds_before = totals
            changed.append(event)
            if event.ended_at is not None and event.ended_at > event.started_at:
                totals = {**totals, event.state: totals.get(event.state, 0.0)
                          + (event.ended_at - event.started_at).total_seconds()}
        event_model.objects.bulk_update(changed, ["seconds_before"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("machines", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="machinestateevent",
            name="seconds_before",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
