"""The report filter (`ReportFilter`: period, machines, shift, grouping, buckets) and the form that the report pages
and the report API read it with."""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.utils import timezone

from jobs.models import PartRevision
from machines.models import Machine, ShiftWindow, WorkCenter
from reporting.windows import local_midnight

MAX_DAYS = 400


@dataclass(frozen=True)
class ReportFilter:
    date_from: dt.date
    date_to: dt.date  # inclusive
    machine_id: int | None = None
    work_center_id: int | None = None
    shift: str = ""
    group: str = "machine"  # machine | work_center | shop
    bucket: str = "total"  # total | day | week | month | shift

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.date_from)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.date_to + dt.timedelta(days=1))

    def machines(self):
        machines = Machine.objects.all()
        if self.machine_id:
            machines = machines.filter(pk=self.machine_id)
        if self.work_center_id:
            machines = machines.filter(work_center_id=self.work_center_id)
        return machines


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    machine = forms.ModelChoiceField(Machine.objects.order_by("code"), required=False, empty_label="All machines")
    work_center = forms.ModelChoiceField(WorkCenter.objects.order_by("code"), required=False,
                                         empty_label="All work centers", label="Work center (machine group)")
    shift = forms.ChoiceField(required=False)
    group = forms.ChoiceField(choices=[("machine", "Machine"), ("work_center", "Work center"), ("shop", "Shop")],
                              required=False, label="Per")
    bucket = forms.ChoiceField(choices=[("total", "Whole period"), ("day", "Day"), ("week", "Week"),
                                        ("month", "Month"), ("shift", "Shift")], required=False, label="By")
    part_revision = forms.ModelChoiceField(PartRevision.objects.select_related("part"), required=False,
                                           empty_label="Choose a part revision", label="Unit cost curve for")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        names = ShiftWindow.objects.order_by("name").values_list("name", flat=True).distinct()
        self.fields["shift"].choices = [("", "All shifts"), *[(name, name) for name in names]]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["date_to"] = data.get("date_to") or today
        data["date_from"] = data.get("date_from") or data["date_to"] - dt.timedelta(days=6)
        if data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        if (data["date_to"] - data["date_from"]).days > MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data

    def report_filter(self) -> ReportFilter:
        data = self.cleaned_data
        return ReportFilter(
            date_from=data["date_from"], date_to=data["date_to"],
            machine_id=data["machine"].pk if data.get("machine") else None,
            work_center_id=data["work_center"].pk if data.get("work_center") else None,
            shift=data.get("shift") or "", group=data.get("group") or "machine", bucket=data.get("bucket") or "total",
        )
