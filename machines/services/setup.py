"""What is mounted on a machine: its fixture and its current setup, from which the scheduler's first changeover
starts."""

from core.errors import Conflict
from machines.choices import FixtureStatus
from machines.models import Fixture, Machine


def fixture_mount(*, fixture_id: int, machine: Machine) -> Fixture:
    """Put a fixture on `machine` (moving it off an idle one). The caller holds the machine's lock and has
    checked that no running work elsewhere still needs the fixture."""
    fixture = Fixture.objects.select_for_update().get(pk=fixture_id)
    if fixture.status in (FixtureStatus.MAINTENANCE, FixtureStatus.RETIRED):
        raise Conflict(f"Fixture {fixture.code} is {fixture.get_status_display().lower()}.", field="fixture")
    compatible = set(fixture.compatible_work_centers.values_list("pk", flat=True))
    if compatible and machine.work_center_id not in compatible:
        raise Conflict(f"Fixture {fixture.code} does not fit {machine.work_center.name}.", field="fixture")
    fixture.mounted_on, fixture.status = machine, FixtureStatus.IN_USE
    fixture.save(update_fields=["mounted_on", "status", "updated_at"])
    return fixture


def machine_setup_record(*, machine: Machine, fixture: str, material: str, tool_kit: str, program: str) -> None:
    """Remember what is mounted now: the scheduler's first changeover starts from it."""
    machine.setup_fixture, machine.setup_material = fixture, material
    machine.setup_tool_kit, machine.setup_program = tool_kit, program
    machine.save(update_fields=["setup_fixture", "setup_material", "setup_tool_kit", "setup_program", "updated_at"])
