"""Inspection plans: a balloon list imported from CSV, a plan copied forward to a new revision."""

import csv
import io
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import ApplicationError, Conflict, NotFound
from core.permissions import require_perm
from inspection.choices import RequirementKind
from inspection.models import Characteristic, GaugeType, InspectionPlan
from inspection.selectors import plan_compare
from jobs.models import PartRevision

PLAN_CSV_COLUMNS = ("balloon", "sheet", "zone", "designator", "description", "nominal", "lower", "upper",
                    "attribute_note", "unit", "method", "gauge_type", "operation_number")


class PlanImportRefused(ApplicationError):
    """A balloon list refused as a whole, with every bad line: `lines` is [(line number, message)]."""

    def __init__(self, lines: list[tuple[int, str]], *, code: str):
        shown = " ".join(f"Line {line}: {message}" for line, message in lines[:20])
        more = f" And {len(lines) - 20} more." if len(lines) > 20 else ""
        count = f"{len(lines)} lines are" if len(lines) > 1 else "1 line is"
        super().__init__(f"Nothing was imported: {count} refused. {shown}{more}", code=code, field="file")
        self.lines = lines


def _plan_row(row: dict[str, str], *, plan: InspectionPlan, gauge_types: dict[str, GaugeType],
              seen: set[str]) -> Characteristic:
    """One CSV line as an unsaved characteristic, or the refusal of that line."""
    balloon = row.get("balloon", "")
    if not balloon:
        raise ApplicationError("the balloon number is missing.", code="missing_balloon")
    if balloon in seen:
        raise ApplicationError(f"balloon {balloon} appears twice.", code="duplicate_balloon")
    seen.add(balloon)
    limits = []
    for name in ("nominal", "lower", "upper"):
        text = row.get(name, "")
        try:
            limits.append(Decimal(text) if text else None)
        except InvalidOperation:
            raise ApplicationError(f"{name} “{text}” of balloon {balloon} is not a number.",
                                   code="not_a_number") from None
    attribute = row.get("attribute_note", "")
    if all(limit is not None for limit in limits):
        nominal, lower, upper = limits
        if lower > upper or not lower <= nominal <= upper:
            raise ApplicationError(f"balloon {balloon} has its limits upside down (lower {lower}, nominal {nominal}, "
                                   f"upper {upper}).", code="limits_upside_down")
        kind = RequirementKind.VARIABLE
    elif attribute and not any(limit is not None for limit in limits):
        kind = RequirementKind.ATTRIBUTE
    else:
        raise ApplicationError(f"balloon {balloon} needs nominal, lower and upper, or an attribute note.",
                               code="incomplete_requirement")
    gauge_type = None
    if row.get("gauge_type"):
        gauge_type = gauge_types.get(row["gauge_type"].lower())
        if gauge_type is None:
            raise ApplicationError(f"there is no gauge type “{row['gauge_type']}”.", code="unknown_gauge_type")
    operation_number = row.get("operation_number", "")
    if operation_number and not operation_number.isdigit():
        raise ApplicationError(f"operation number “{operation_number}” is not a number.", code="not_a_number")
    characteristic = Characteristic(
        plan=plan, balloon_number=balloon, sheet=row.get("sheet", ""), zone=row.get("zone", ""),
        designator=(row.get("designator") or "none").lower(), description=row.get("description", ""),
        requirement_kind=kind, nominal=limits[0], lower_limit=limits[1], upper_limit=limits[2],
        attribute_note=attribute, unit=row.get("unit") or ("mm" if kind == RequirementKind.VARIABLE else ""),
        method=row.get("method", ""), gauge_type=gauge_type,
        operation_number=int(operation_number) if operation_number else None)
    try:
        characteristic.full_clean()
    except ValidationError as exc:
        raise ApplicationError(f"balloon {balloon}: {' '.join(exc.messages)}", code="invalid") from None
    return characteristic


@transaction.atomic
def plan_import_csv(*, part_revision_id: int, text: str, user: User) -> InspectionPlan:
    """Add the balloon list of a CSV file to the revision's plan (created if missing).
    Columns (header row, any order, only `balloon` required): balloon, sheet, zone, designator
    (none/key/critical), description, nominal, lower, upper (a variable requirement needs all three),
    attribute_note (an attribute requirement), unit, method, gauge_type (a gauge type code),
    operation_number. All lines or none: every bad line is refused with its number."""
    require_perm(user, "inspection.add_characteristic")
    if not PartRevision.objects.filter(pk=part_revision_id).exists():
        raise NotFound(f"There is no part revision {part_revision_id}.")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = [name.strip().lower() for name in reader.fieldnames or () if name]
    except csv.Error as exc:
        raise ApplicationError(f"The file is not readable as CSV: {exc}.", field="file") from None
    reader.fieldnames = fieldnames
    unknown = set(fieldnames) - set(PLAN_CSV_COLUMNS)
    if not fieldnames or "balloon" not in fieldnames or unknown:
        raise ApplicationError(f"The header must name the columns {', '.join(PLAN_CSV_COLUMNS)}"
                               + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "") + ".", field="file",
                               code="bad_header")
    plan, _ = InspectionPlan.objects.get_or_create(part_revision_id=part_revision_id)
    seen = set(plan.characteristics.values_list("balloon_number", flat=True))
    gauge_types = {g.code.lower(): g for g in GaugeType.objects.all()}
    characteristics, refused, codes = [], [], []
    try:
        for row in reader:
            line = reader.line_num  # the file's own line number, blank lines counted
            row = {key: (value or "").strip() for key, value in row.items() if key}
            if not any(row.values()):
                continue  # a blank line
            try:
                characteristics.append(_plan_row(row, plan=plan, gauge_types=gauge_types, seen=seen))
            except ApplicationError as err:
                refused.append((line, err.message))
                codes.append(err.code)
    except csv.Error as exc:
        raise ApplicationError(f"The file is not readable as CSV: {exc}.", field="file") from None
    if refused:
        raise PlanImportRefused(refused, code=codes[0])
    if not characteristics:
        raise ApplicationError("The file has a header but no balloon lines.", field="file", code="empty")
    for characteristic in characteristics:
        characteristic._history_user = user
        characteristic.save()
    return plan


@transaction.atomic
def plan_copy_forward(*, from_revision_id: int, to_revision_id: int, user: User) -> tuple[InspectionPlan, dict]:
    """Copy a plan to another revision of the same part that has none yet. Returns the plan and what
    differs from the copied one: see `inspection.selectors.plan_compare`."""
    require_perm(user, "inspection.add_inspectionplan")
    source = InspectionPlan.objects.select_related("part_revision").filter(part_revision_id=from_revision_id).first()
    if source is None:
        raise NotFound("The revision to copy from has no inspection plan.")
    target = PartRevision.objects.filter(pk=to_revision_id).first()
    if target is None:
        raise NotFound(f"There is no part revision {to_revision_id}.")
    if target.pk == source.part_revision_id or target.part_id != source.part_revision.part_id:
        raise ApplicationError(f"A plan is copied forward to another revision of {source.part_revision.part.number}.",
                               field="to_revision", code="wrong_revision")
    if InspectionPlan.objects.filter(part_revision_id=to_revision_id).exists():
        raise Conflict(f"{target} has an inspection plan already.", code="plan_exists")
    plan = InspectionPlan(part_revision_id=to_revision_id, notes=f"Copied from {source.part_revision}.")
    plan._history_user = user
    plan.save()
    for characteristic in source.characteristics.all():
        characteristic.pk = None
        characteristic._state.adding = True
        characteristic.plan = plan
        characteristic._history_user = user
        characteristic.save()
    return plan, plan_compare(old=source, new=plan)
