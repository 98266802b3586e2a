"""The home page's panels: what each role sees first, read from machines, jobs and inspection."""

import datetime as dt

from core.roles import user_roles
from inspection.selectors import first_articles_waiting, gauges_due, nonconformances_open
from jobs.selectors import jobs_awaiting_release, jobs_late, operations_open_count, operations_ready
from machines.selectors import machine_list, machine_state_counts

LIST_LIMIT = 15

# Which panels each role's home page shows, in order.
ROLE_PANELS = {
    "operator": ["machines", "ready_operations"],
    "inspector": ["first_articles", "gauges_due", "nonconformances"],
    "planner": ["jobs_to_release", "late_jobs", "ready_operations"],
    "manager": ["shop_figures", "late_jobs", "machines"],
    "admin": ["shop_figures", "jobs_to_release", "first_articles", "gauges_due", "machines"],
}


def _panel(name: str, today: dt.date):
    match name:
        case "machines":
            return list(machine_list().filter(active=True))
        case "ready_operations":
            return list(operations_ready()[:LIST_LIMIT])
        case "first_articles":
            return list(first_articles_waiting()[:LIST_LIMIT])
        case "gauges_due":
            return list(gauges_due(today=today)[:LIST_LIMIT])
        case "nonconformances":
            return list(nonconformances_open()[:LIST_LIMIT])
        case "jobs_to_release":
            return list(jobs_awaiting_release()[:LIST_LIMIT])
        case "late_jobs":
            return list(jobs_late(today=today)[:LIST_LIMIT])
        case "shop_figures":
            return {
                "states": machine_state_counts(),
                "open_operations": operations_open_count(),
                "late_jobs": jobs_late(today=today).count(),
                "awaiting_release": jobs_awaiting_release().count(),
            }
    raise ValueError(name)


def home_panels(*, user, today: dt.date) -> dict:
    """The panels of `user`'s home page: the union of their roles' panels, each read once."""
    names: list[str] = []
    for role in user_roles(user) or ["operator"]:
        names += [name for name in ROLE_PANELS.get(role, []) if name not in names]  # a device has no page
    return {name: _panel(name, today) for name in names}
