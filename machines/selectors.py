from django.db.models import Count, OuterRef, QuerySet, Subquery

from machines.choices import MachineState
from machines.models import Machine, MachineStateEvent


def machine_list() -> QuerySet[Machine]:
    """Machines with their current state (the open state event), in one query."""
    open_event = MachineStateEvent.objects.filter(machine=OuterRef("pk"), ended_at__isnull=True)
    return (
        Machine.objects.select_related("work_center", "calendar")
        .annotate(
            current_state=Subquery(open_event.values("state")[:1]),
            state_since=Subquery(open_event.values("started_at")[:1]),
        )
        .order_by("work_center__code", "code")
    )


def machine_state_counts() -> dict[str, int]:
    """How many active machines are in each state now; machines with no open event count as unknown."""
    counts = dict(
        MachineStateEvent.objects.filter(ended_at__isnull=True, machine__active=True)
        .values_list("state").annotate(n=Count("id")).order_by()
    )
    counts[MachineState.UNKNOWN] = counts.get(MachineState.UNKNOWN, 0) + (
        Machine.objects.filter(active=True).count() - sum(counts.values())
    )
    return counts
