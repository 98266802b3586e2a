"""The permission to see the reports moved from jobs to reporting: whoever had the old one keeps the right."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from reporting.models import VIEW_REPORTS

migration = importlib.import_module("reporting.migrations.0002_view_reports_from_jobs")

pytestmark = pytest.mark.django_db


def can(user, perm: str) -> bool:
    return get_user_model().objects.get(pk=user.pk).has_perm(perm)  # fresh: a user caches its permissions


def test_the_holders_of_jobs_view_reports_keep_the_right_to_see_the_reports(make_user):
    # As a database migrated before the move has it: jobs.view_reports, given to a group and to a user.
    old = Permission.objects.create(content_type=ContentType.objects.get(app_label="jobs", model="job"),
                                    codename="view_reports", name="Can view shop reports")
    controllers = Group.objects.create(name="controllers")
    controllers.permissions.add(old)
    member, accountant, other = make_user(username="member"), make_user(username="accountant"), make_user()
    member.groups.add(controllers)
    accountant.user_permissions.add(old)

    migration.forwards(apps, None)
    assert [can(user, VIEW_REPORTS) for user in (member, accountant, other)] == [True, True, False]
    assert not Permission.objects.filter(content_type__app_label="jobs", codename="view_reports").exists()

    migration.backwards(apps, None)
    assert [can(user, "jobs.view_reports") for user in (member, accountant, other)] == [True, True, False]
    assert [can(user, VIEW_REPORTS) for user in (member, accountant)] == [False, False]
