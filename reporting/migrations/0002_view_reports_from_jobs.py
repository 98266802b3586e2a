"""The permission to see the reports moves from jobs (jobs.view_reports) to reporting (reporting.view_reports):
the groups and users that had the old one get the new one, and the old one goes. The role groups are set again
after every migrate (core.roles.roles_sync); this keeps the right of any other group or user that was given it."""

from django.conf import settings
from django.db import migrations

CODENAME = "view_reports"
NAME = "Can view shop reports"


def move(apps, *, source: tuple[str, str], target: tuple[str, str]) -> None:
    """Give the holders of `source`'s view_reports (app label, model) the one of `target`, then delete it."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    old = permission_model.objects.filter(content_type__app_label=source[0], codename=CODENAME).first()
    if old is None:  # a new database: permissions are created after the migrations
        return
    content_type, _ = content_type_model.objects.get_or_create(app_label=target[0], model=target[1])
    new, _ = permission_model.objects.get_or_create(content_type=content_type, codename=CODENAME,
                                                    defaults={"name": NAME})
    new.group_set.add(*old.group_set.all())
    new.user_set.add(*old.user_set.all())
    old.delete()


def forwards(apps, schema_editor):
    move(apps, source=("jobs", "job"), target=("reporting", "reportaccess"))


def backwards(apps, schema_editor):
    move(apps, source=("reporting", "reportaccess"), target=("jobs", "job"))


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
