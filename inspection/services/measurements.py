"""Pass or fail of one measurement: a typed value in the characteristic's unit, judged against its limits, taken
with a gauge in calibration. What a first-article row and an in-process or final reading share; writes nothing."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.errors import ApplicationError, NotFound
from inspection.choices import RequirementKind, Verdict
from inspection.models import Characteristic, Gauge
from inspection.services.gauges import gauge_check_usable

# Length units a value may be typed in, in millimetres.
LENGTH_UNITS = {"mm": Decimal("1"), "in": Decimal("25.4"), '"': Decimal("25.4"), "um": Decimal("0.001"),
                "µm": Decimal("0.001")}
VALUE = re.compile(r"\s*(?P<number>[-+]?(\d+(\.\d*)?|\.\d+))\s*(?P<unit>[a-zA-Zµ\"°]*)\s*")


def measured_value_parse(text: str | Decimal | float | int, *, unit: str) -> Decimal:
    """A typed value as a number in the characteristic's unit. "12.7", "12.7 mm", "0.5 in" for a
    characteristic in mm; a length in another length unit is converted, any other unit is refused."""
    if isinstance(text, Decimal | int | float) and not isinstance(text, bool):
        return Decimal(str(text))
    match = VALUE.fullmatch(str(text or ""))
    if match is None:
        raise ApplicationError(f"“{str(text).strip()[:30]}” is not a number.", field="value", code="not_a_number")
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ApplicationError(f"“{text}” is not a number.", field="value", code="not_a_number") from None
    typed = match["unit"].lower() if match["unit"] not in ("µm",) else "µm"
    wanted = (unit or "").lower()
    if not typed or typed == wanted:
        return number
    if typed in LENGTH_UNITS and wanted in LENGTH_UNITS:
        return (number * LENGTH_UNITS[typed] / LENGTH_UNITS[wanted]).quantize(Decimal("0.00001"))
    raise ApplicationError(f"The value is in “{match['unit']}” but this characteristic is measured in "
                           f"{unit or 'no unit'}.", field="value", code="wrong_unit")


def verdict_of(characteristic: Characteristic, *, value: Decimal | None = None,
               accepted: bool | None = None) -> str:
    """Pass when the value lies within the limits, both limits included; an attribute passes when
    accepted."""
    if characteristic.requirement_kind == RequirementKind.ATTRIBUTE:
        if accepted is None:
            raise ApplicationError(f"Accept or reject balloon {characteristic.balloon_number}.", field="accepted")
        return Verdict.PASS if accepted else Verdict.FAIL
    if value is None:
        raise ApplicationError(f"Enter the measured value of balloon {characteristic.balloon_number}.",
                               field="value")
    inside = characteristic.lower_limit <= value <= characteristic.upper_limit
    return Verdict.PASS if inside else Verdict.FAIL


@dataclass(frozen=True)
class Measurement:
    """One checked measurement: the value in the characteristic's unit (or the attribute's accept),
    the gauge it was taken with and the verdict."""

    characteristic: Characteristic
    value: Decimal | None
    accepted: bool | None
    gauge: Gauge | None
    verdict: str

    def failure(self) -> str:
        c = self.characteristic
        shown = f"{self.value} {c.unit}" if self.value is not None else "rejected"
        limits = (f"{c.lower_limit}–{c.upper_limit} {c.unit}" if c.requirement_kind == RequirementKind.VARIABLE
                  else c.attribute_note)
        return f"{shown}, required {limits}"


def measurement_check(characteristic: Characteristic, *, value: str | Decimal | None = None,
                      accepted: bool | None = None, gauge_id: int | None = None, today: dt.date) -> Measurement:
    """What a first-article row and an in-process or final reading share: the value is parsed in the
    characteristic's unit and judged against its limits (both included); the gauge must be of the
    characteristic's type and in calibration today. Raises the refusal; writes nothing."""
    measured = None
    if characteristic.requirement_kind == RequirementKind.VARIABLE:
        if value is None or str(value).strip() == "":
            raise ApplicationError(f"Enter the measured value of balloon {characteristic.balloon_number}.",
                                   field="value")
        measured = measured_value_parse(value, unit=characteristic.unit)
        if measured.as_tuple().exponent < -5 or abs(measured) >= 10 ** 7:
            raise ApplicationError(f"{measured} {characteristic.unit} cannot be recorded: at most 5 decimals and "
                                   "7 digits before the point.", field="value", code="out_of_range")
        accepted = None
    verdict = verdict_of(characteristic, value=measured, accepted=accepted)
    gauge = None
    if gauge_id:
        gauge = Gauge.objects.filter(pk=gauge_id).select_related("gauge_type").first()
        if gauge is None:
            raise NotFound(f"There is no gauge {gauge_id}.")
    elif characteristic.requirement_kind == RequirementKind.VARIABLE and characteristic.gauge_type_id:
        raise ApplicationError(f"Choose the {characteristic.gauge_type} you measured with.", field="gauge")
    if gauge is not None:
        gauge_check_usable(gauge, characteristic=characteristic, today=today)
    return Measurement(characteristic, measured, accepted, gauge, verdict)

