"""In-process and final inspections: a sample's readings, all recorded or none."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound
from core.permissions import require_perm
from inspection.choices import InspectionKind, NCSource, Verdict
from inspection.models import InspectionReading, InspectionRecord
from inspection.selectors import record_characteristics
from inspection.services.measurements import Measurement, measurement_check
from inspection.services.nonconformances import nc_create
from jobs.choices import OperationStatus
from jobs.models import JobOperation

NOTHING_MADE_YET = (OperationStatus.PENDING, OperationStatus.READY)


def _whole_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


@transaction.atomic
def inspection_record_create(*, operation_id: int, user: User, kind: str, readings: list[dict[str, Any]],
                             pieces: str = "", sample_size: int | str | None = None) -> InspectionRecord:
    """Record an in-process or final check of a sample against an operation. Each reading is
    {characteristic, piece, value or accepted, gauge}, judged exactly as a first-article row (see
    `measurement_check`). All readings or none: the first refusal names its balloon and piece.
    A failing reading raises a nonconformance, its number written back on the reading, that holds
    the operation until dispositioned."""
    require_perm(user, "inspection.add_inspectionrecord")
    if kind not in InspectionKind.values:
        raise ApplicationError("Choose an in-process or a final inspection.", field="kind")
    operation = JobOperation.objects.select_related("job").filter(pk=operation_id).first()
    if operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    if operation.status in NOTHING_MADE_YET:
        raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}: no piece has been made "
                       "there yet.", code="wrong_state")
    allowed = {c.pk: c for c in record_characteristics(operation, kind=kind)}
    if not allowed:
        raise Conflict(f"The inspection plan of {operation.job.part_revision} has no characteristic to check at "
                       f"operation {operation.operation_number}; add the plan first.", code="no_plan")
    if not readings:
        raise ApplicationError("Enter at least one reading.", field="readings")
    today = timezone.localdate()
    checked: list[tuple[str, Measurement]] = []
    seen: set[tuple[int, str]] = set()
    for reading in readings:
        characteristic = allowed.get(_whole_number(reading.get("characteristic")))
        if characteristic is None:
            raise ApplicationError(f"Characteristic {reading.get('characteristic')} is not in the inspection plan "
                                   f"checked at operation {operation.operation_number}.", field="characteristic")
        piece = str(reading.get("piece") or "").strip()
        where = f"Balloon {characteristic.balloon_number}" + (f", piece {piece}" if piece else "")
        if len(piece) > 20:
            raise ApplicationError(f"{where}: a piece is named in 20 characters at most.", field="piece")
        if (characteristic.pk, piece) in seen:
            raise ApplicationError(f"{where} is entered twice.", field="readings", code="duplicate_reading")
        seen.add((characteristic.pk, piece))
        try:
            measurement = measurement_check(characteristic, value=reading.get("value"),
                                            accepted=reading.get("accepted"),
                                            gauge_id=_whole_number(reading.get("gauge")), today=today)
        except ApplicationError as err:
            err.message = f"{where}: {err.message}"  # which row of the form refused
            err.args = (err.message,)
            raise
        checked.append((piece, measurement))
    sampled = list(dict.fromkeys(piece for piece, _ in checked if piece))
    if sample_size in (None, ""):
        size = max(1, len(sampled))
    else:
        size = _whole_number(sample_size)
        if not size:
            raise ApplicationError(f"The sample size “{sample_size}” is not a whole number of at least 1.",
                                   field="sample_size")
        if size < len(sampled):
            raise ApplicationError(f"The sample size is {size} but readings name {len(sampled)} pieces.",
                                   field="sample_size")
    record = InspectionRecord(job=operation.job, operation=operation, kind=kind, sample_size=size,
                              pieces=(pieces.strip() or ", ".join(sampled))[:200], inspector=user,
                              inspected_at=timezone.now(),
                              accepted=all(m.verdict == Verdict.PASS for _, m in checked))
    record.full_clean()
    record._history_user = user
    record.save()
    source = NCSource.IN_PROCESS if kind == InspectionKind.IN_PROCESS else NCSource.FINAL
    for piece, measurement in checked:
        reading = InspectionReading(record=record, characteristic=measurement.characteristic, piece=piece,
                                    measured_value=measurement.value, attribute_accepted=measurement.accepted,
                                    gauge=measurement.gauge, verdict=measurement.verdict)
        if measurement.verdict == Verdict.FAIL:
            where = f"piece {piece} " if piece else ""
            reading.nonconformance = nc_create(
                job=operation.job, operation=operation, source=source, quantity=1, user=user,
                description=f"{record.label} ({record.get_kind_display().lower()} check) {where}balloon "
                            f"{measurement.characteristic.balloon_number}: {measurement.failure()}.")
        reading.full_clean()
        reading._history_user = user
        reading.save()
    return record
