"""Gauges and their calibrations: the status the calendar gives a gauge, calibrations, statuses set by hand."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound
from core.permissions import require_perm
from inspection.choices import GaugeStatus
from inspection.models import Calibration, Characteristic, Gauge

DUE_SOON_DAYS = 14


def gauge_status_on(gauge: Gauge, *, today: dt.date) -> str:
    """The status the calendar gives a gauge in service; statuses set by hand stay as they are."""
    if gauge.status in GaugeStatus.set_by_hand():
        return gauge.status
    return _status_by_calendar(gauge.next_due_on, today=today)


def _status_by_calendar(next_due_on: dt.date | None, *, today: dt.date) -> str:
    if next_due_on is None or next_due_on < today:
        return GaugeStatus.OVERDUE
    if next_due_on <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return GaugeStatus.DUE_SOON
    return GaugeStatus.ACTIVE


def gauge_check_usable(gauge: Gauge, *, characteristic: Characteristic, today: dt.date) -> None:
    if characteristic.gauge_type_id and gauge.gauge_type_id != characteristic.gauge_type_id:
        raise ApplicationError(f"Gauge {gauge.asset_id} is a {gauge.gauge_type}; balloon "
                               f"{characteristic.balloon_number} is measured with a {characteristic.gauge_type}.",
                               field="gauge", code="wrong_gauge_type")
    status = gauge_status_on(gauge, today=today)  # not only what last night's task wrote
    if status not in GaugeStatus.usable():
        label = GaugeStatus(status).label.lower()
        due = f" (due {gauge.next_due_on:%Y-%m-%d})" if status == GaugeStatus.OVERDUE and gauge.next_due_on else ""
        raise Conflict(f"Gauge {gauge.asset_id} is {label}{due}: it cannot be used to measure.", field="gauge",
                       code="gauge_unusable")


def gauge_statuses_refresh(*, today: dt.date | None = None) -> int:
    """The daily task's work: active, due soon or overdue from each gauge's next due date. Returns how
    many changed; a second run the same day changes nothing."""
    today = today or timezone.localdate()
    changed = 0
    with transaction.atomic():
        for gauge in Gauge.objects.select_for_update().exclude(status__in=GaugeStatus.set_by_hand()):
            status = gauge_status_on(gauge, today=today)
            if status != gauge.status:
                gauge.status = status
                gauge.save(update_fields=["status", "updated_at"])
                changed += 1
    return changed


def _lock_gauge(gauge_id: int) -> Gauge:
    gauge = Gauge.objects.select_for_update().filter(pk=gauge_id).first()
    if gauge is None:
        raise NotFound(f"There is no gauge {gauge_id}.")
    if gauge.status == GaugeStatus.RETIRED:
        raise Conflict(f"Gauge {gauge.asset_id} is retired.", code="retired")
    return gauge


@transaction.atomic
def gauge_calibrate(*, gauge_id: int, user: User, calibrated_on: dt.date, as_found_in_tolerance: bool,
                    as_left_in_tolerance: bool, certificate_number: str, performed_by: str,
                    next_due_on: dt.date | None = None, as_found_notes: str = "",
                    as_left_notes: str = "") -> Calibration:
    """Record a calibration. Left in tolerance, the gauge is back in service until its next due date;
    left out of tolerance, it is quarantined. Found out of tolerance, what it measured since its last
    good calibration is suspect: see `inspection.selectors.gauge_recall`."""
    require_perm(user, "inspection.add_calibration")
    gauge = _lock_gauge(gauge_id)
    if not certificate_number.strip():
        raise ApplicationError("Enter the calibration certificate number.", field="certificate_number")
    if calibrated_on > timezone.localdate():
        raise ApplicationError("A calibration cannot be dated in the future.", field="calibrated_on")
    next_due_on = next_due_on or calibrated_on + dt.timedelta(days=gauge.calibration_interval_days)
    calibration = Calibration(gauge=gauge, calibrated_on=calibrated_on, as_found_in_tolerance=as_found_in_tolerance,
                              as_found_notes=as_found_notes, as_left_in_tolerance=as_left_in_tolerance,
                              as_left_notes=as_left_notes, certificate_number=certificate_number.strip(),
                              performed_by=performed_by.strip(), next_due_on=next_due_on)
    calibration.full_clean()
    calibration._history_user = user
    calibration.save()
    gauge.last_calibrated_on, gauge.next_due_on = calibrated_on, next_due_on
    if as_left_in_tolerance:
        gauge.status = _status_by_calendar(next_due_on, today=timezone.localdate())
    else:
        gauge.status = GaugeStatus.QUARANTINED
    gauge._history_user = user
    gauge.save()
    return calibration


@transaction.atomic
def gauge_status_set(*, gauge_id: int, user: User, status: str) -> Gauge:
    """Send out for calibration, quarantine, retire, or put back in service (by the calendar)."""
    require_perm(user, "inspection.change_gauge")
    if status not in GaugeStatus.values:
        raise ApplicationError(f"“{status}” is not a gauge status.", field="status")
    gauge = _lock_gauge(gauge_id)
    if status in GaugeStatus.set_by_hand():
        gauge.status = status
    else:  # back in service: the calendar says which
        gauge.status = _status_by_calendar(gauge.next_due_on, today=timezone.localdate())
    gauge._history_user = user
    gauge.save()
    return gauge

