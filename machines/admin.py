from django.contrib import admin
from django.db import models
from django.db.models import Count

from core.admin import ReadOnlyAdminMixin, ServiceAdmin, ServiceTabularInline
from machines.models import (
    Calendar,
    CalendarException,
    ChangeoverRule,
    DowntimeReason,
    Fixture,
    Machine,
    MachineConnection,
    MachineStateEvent,
    ShiftWindow,
    WorkCenter,
)


@admin.register(WorkCenter)
class WorkCenterAdmin(ServiceAdmin):
    list_display = ("code", "name", "machine_count")
    search_fields = ("code", "name", "description")
    ordering = ("code",)  # the model's default ordering is dropped from a grouped (counted) query

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(machine_count=Count("machines"))

    @admin.display(description="machines", ordering="machine_count")
    def machine_count(self, obj):
        return obj.machine_count


class ShiftWindowInline(ServiceTabularInline):
    model = ShiftWindow
    fields = ("weekday", "name", "start_time", "end_time", "attended")
    extra = 1


class CalendarExceptionInline(ServiceTabularInline):
    model = CalendarException
    fields = ("kind", "starts_at", "ends_at", "attended", "priority", "note")


@admin.register(Calendar)
class CalendarAdmin(ServiceAdmin):
    list_display = ("name", "description")
    search_fields = ("name", "description")
    inlines = (ShiftWindowInline, CalendarExceptionInline)


@admin.register(ShiftWindow)
class ShiftWindowAdmin(ServiceAdmin):
    list_display = ("calendar", "weekday", "name", "start_time", "end_time", "attended")
    list_filter = ("calendar", "weekday", "attended")
    search_fields = ("calendar__name", "name")
    list_select_related = ("calendar",)
    autocomplete_fields = ("calendar",)


@admin.register(CalendarException)
class CalendarExceptionAdmin(ServiceAdmin):
    list_display = ("calendar", "kind", "starts_at", "ends_at", "attended", "priority", "note")
    list_filter = ("kind", "calendar", "attended", "starts_at")
    search_fields = ("calendar__name", "note")
    date_hierarchy = "starts_at"
    list_select_related = ("calendar",)
    autocomplete_fields = ("calendar",)


class MachineConnectionInline(ReadOnlyAdminMixin, admin.StackedInline):
    """What the machine reports, shown on its page: only the connectivity services write it."""

    model = MachineConnection
    fields = ("connected", "last_observation_at", "last_error", "last_error_at", "instance_id", "next_sequence",
              "context_state", "context_reason", "signals")
    readonly_fields = fields
    verbose_name = verbose_name_plural = "connection status"


@admin.register(Machine)
class MachineAdmin(ServiceAdmin):
    list_display = ("code", "name", "work_center", "kind", "calendar", "hourly_rate", "active")
    list_filter = ("active", "kind", "work_center", "calendar")
    search_fields = ("code", "name", "work_center__code", "work_center__name", "mtconnect_device")
    list_select_related = ("work_center", "calendar")
    autocomplete_fields = ("work_center", "calendar")
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}  # agents answer plain HTTP on the LAN
    inlines = (MachineConnectionInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "work_center", "kind", "hourly_rate", "active", "calendar")}),
        ("Monitoring", {"fields": ("mtconnect_agent_url", "mtconnect_device", "signal_device",
                                   "unexplained_stop_seconds", "part_counter_counts_good")}),
        ("Setup mounted now", {
            "fields": ("setup_fixture", "setup_material", "setup_tool_kit", "setup_program"),
            "description": "The first changeover of a schedule starts from this setup.",
        }),
    )


@admin.register(Fixture)
class FixtureAdmin(ServiceAdmin):
    list_display = ("code", "name", "kind", "status", "mounted_on", "storage_location")
    list_filter = ("status", "kind", "compatible_work_centers")
    search_fields = ("code", "name", "storage_location", "mounted_on__code")
    list_select_related = ("mounted_on",)
    autocomplete_fields = ("mounted_on", "compatible_work_centers")


@admin.register(ChangeoverRule)
class ChangeoverRuleAdmin(ServiceAdmin):
    list_display = ("work_center", "attribute", "from_value", "to_value", "minutes", "cost", "priority")
    list_filter = ("work_center", "attribute")
    search_fields = ("work_center__code", "from_value", "to_value")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)


@admin.register(DowntimeReason)
class DowntimeReasonAdmin(ServiceAdmin):
    list_display = ("code", "label", "planned", "loss_category", "active")
    list_filter = ("planned", "loss_category", "active")
    search_fields = ("code", "label")


@admin.register(MachineStateEvent)
class MachineStateEventAdmin(ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("machine", "state", "reason", "started_at", "ended_at", "source", "note")
    list_filter = ("state", "source", "machine", "started_at")
    search_fields = ("machine__code", "reason__code", "reason__label", "note")
    date_hierarchy = "started_at"
    ordering = ("-started_at",)
    list_select_related = ("machine", "reason")
    show_full_result_count = False  # the status log grows by the minute: count it once, not twice
