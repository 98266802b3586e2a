"""The roles of a shop and what each may do. Groups are kept in step after every migrate."""

from fnmatch import fnmatch

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

DOMAIN_APPS = ("machines", "jobs", "inspection", "reporting")

PLANNER_MASTER_DATA = [
    f"jobs.{verb}_{model}"
    for model in (
        "customer", "salesorder", "salesorderline", "part", "partrevision", "routing", "routingstep",
        "routingstepmachine", "routingstepattachment", "ncprogram", "job", "materiallot", "serialnumber",
    )
    for verb in ("add", "change")
] + [
    f"machines.{verb}_{model}"
    for model in ("calendar", "shiftwindow", "calendarexception", "fixture", "changeoverrule")
    for verb in ("add", "change")
]

# Patterns over "app_label.codename". READ_ALL: every domain model's own view permission (not a
# custom one that happens to start with "view_", such as reporting.view_reports).
READ_ALL = "read-all"
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "operator": [READ_ALL, "jobs.run_operation", "machines.report_machine_state"],
    "inspector": [
        READ_ALL, "inspection.add_*", "inspection.change_*", "inspection.approve_firstarticlereport",
        "jobs.hold_operation", "machines.report_machine_state",  # a quality hold stops the machine
    ],
    "planner": [
        READ_ALL, *PLANNER_MASTER_DATA, "jobs.release_job", "jobs.run_schedule", "jobs.publish_schedule",
        "jobs.change_scheduleentry",
    ],
    "manager": [
        READ_ALL, "reporting.view_reports", "machines.add_*", "machines.change_*", "jobs.add_scrapreason",
        "jobs.change_scrapreason",
    ],
    "admin": ["*"],
    # An edge device, not a person: its token posts the signals of the machines bound to it, and opens nothing else
    # (core.api.authentication).
    "device": ["machines.report_machine_signals"],
}
ROLES = tuple(ROLE_PERMISSIONS)
DEVICE = "device"


def role_permissions(role: str) -> list[Permission]:
    patterns = ROLE_PERMISSIONS[role]
    candidates = Permission.objects.select_related("content_type")
    if role != "admin":
        candidates = candidates.filter(content_type__app_label__in=DOMAIN_APPS)
    return [
        perm for perm in candidates
        if any(perm.codename == f"view_{perm.content_type.model}" if pattern == READ_ALL
               else fnmatch(f"{perm.content_type.app_label}.{perm.codename}", pattern) for pattern in patterns)
    ]


def roles_sync() -> None:
    """Create the role groups and set each one's permissions to exactly its list."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role))


def user_is_device(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.groups.filter(name=DEVICE).exists()


def user_roles(user: User | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    names = {group.name for group in user.groups.all()}
    if user.is_superuser:
        names.add("admin")
    return [role for role in ROLES if role in names]
