from django import template

from machines.choices import MachineState

register = template.Library()


@register.filter
def state_label(value: str | None) -> str:
    """A machine state's label as people read it ("Off shift", not "off_shift")."""
    return MachineState(value).label if value in MachineState.values else "No state yet"
