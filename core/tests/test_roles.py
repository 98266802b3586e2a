import pytest
from django.contrib.auth.models import Group

from core.roles import ROLES


@pytest.mark.django_db
def test_every_role_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        ("operator", "jobs.run_operation", True),
        ("operator", "jobs.change_routing", False),
        ("operator", "jobs.release_job", False),
        ("planner", "jobs.change_routing", True),
        ("planner", "jobs.release_job", True),
        ("planner", "inspection.approve_firstarticlereport", False),
        ("inspector", "inspection.approve_firstarticlereport", True),
        ("inspector", "jobs.release_job", False),
        ("manager", "reporting.view_reports", True),
        ("operator", "reporting.view_reports", False),
        ("planner", "reporting.view_reports", False),
        ("manager", "jobs.change_routing", False),
        ("admin", "inspection.approve_firstarticlereport", True),
        ("device", "machines.report_machine_signals", True),
        ("device", "machines.view_machine", False),
        ("device", "machines.report_machine_state", False),
        ("operator", "machines.report_machine_signals", False),
    ],
)
def test_role_permissions(make_user, role, perm, allowed):
    assert make_user(role).has_perm(perm) is allowed
