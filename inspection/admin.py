from django.contrib import admin
from django.db.models import Count

from core.admin import NoDeleteAdminMixin, ServiceAdmin, ServiceHistoryAdmin, ServiceTabularInline
from inspection.choices import ReportStatus
from inspection.models import (
    Calibration,
    Characteristic,
    CharacteristicResult,
    FirstArticleReport,
    FormTwoLine,
    Gauge,
    GaugeType,
    InspectionPlan,
    InspectionReading,
    InspectionRecord,
    NonConformance,
)
from jobs.admin import WorkOrderSearchMixin


@admin.register(GaugeType)
class GaugeTypeAdmin(ServiceAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class CharacteristicInline(ServiceTabularInline):
    model = Characteristic
    fields = ("balloon_number", "designator", "description", "requirement_kind", "nominal", "lower_limit",
              "upper_limit", "attribute_note", "unit", "gauge_type", "operation_number", "sampling", "sample_every")
    autocomplete_fields = ("gauge_type",)
    select_related = ("gauge_type",)
    extra = 1


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ServiceHistoryAdmin):
    list_display = ("__str__", "characteristic_count", "updated_at")
    list_filter = ("part_revision__status", "updated_at")
    search_fields = ("part_revision__part__number", "part_revision__part__description", "notes")
    ordering = ("part_revision__part__number", "part_revision__revision")
    list_select_related = ("part_revision__part",)
    autocomplete_fields = ("part_revision",)
    inlines = (CharacteristicInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(characteristic_count=Count("characteristics"))

    @admin.display(description="characteristics", ordering="characteristic_count")
    def characteristic_count(self, obj):
        return obj.characteristic_count


@admin.register(Characteristic)
class CharacteristicAdmin(ServiceHistoryAdmin):
    list_display = ("balloon_number", "plan", "designator", "requirement_kind", "nominal", "lower_limit",
                    "upper_limit", "unit", "gauge_type", "sampling")
    list_filter = ("designator", "requirement_kind", "sampling", "gauge_type")
    search_fields = ("balloon_number", "description", "plan__part_revision__part__number")
    list_select_related = ("plan__part_revision__part", "gauge_type")
    autocomplete_fields = ("plan", "gauge_type")
    fieldsets = (
        (None, {"fields": ("plan", "balloon_number", "sheet", "zone", "designator", "description")}),
        ("Requirement", {"fields": ("requirement_kind", "nominal", "lower_limit", "upper_limit", "unit",
                                    "attribute_note")}),
        ("Measurement", {"fields": ("method", "gauge_type", "operation_number", "sampling", "sample_every")}),
    )


class CalibrationInline(NoDeleteAdminMixin, ServiceTabularInline):
    model = Calibration
    fields = ("calibrated_on", "as_found_in_tolerance", "as_found_notes", "as_left_in_tolerance", "as_left_notes",
              "certificate_number", "performed_by", "next_due_on")
    ordering = ("-calibrated_on",)


@admin.register(Gauge)
class GaugeAdmin(ServiceHistoryAdmin):
    list_display = ("asset_id", "gauge_type", "description", "location", "status", "last_calibrated_on",
                    "next_due_on")
    list_filter = ("status", "gauge_type", "next_due_on")
    search_fields = ("asset_id", "description", "location", "gauge_type__name")
    list_select_related = ("gauge_type",)
    autocomplete_fields = ("gauge_type",)
    inlines = (CalibrationInline,)


@admin.register(Calibration)
class CalibrationAdmin(NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("gauge", "calibrated_on", "as_found_in_tolerance", "as_left_in_tolerance", "certificate_number",
                    "performed_by", "next_due_on")
    list_filter = ("as_found_in_tolerance", "as_left_in_tolerance", "calibrated_on", "next_due_on")
    search_fields = ("gauge__asset_id", "certificate_number", "performed_by")
    date_hierarchy = "calibrated_on"
    list_select_related = ("gauge__gauge_type",)
    autocomplete_fields = ("gauge",)


@admin.register(NonConformance)
class NonConformanceAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("number", "source", "job", "quantity", "disposition", "status", "raised_by", "created_at")
    list_filter = ("status", "disposition", "source", "created_at")
    search_fields = ("number", "job__number", "description")
    date_hierarchy = "created_at"
    list_select_related = ("job", "raised_by")
    autocomplete_fields = ("job", "operation")
    raw_id_fields = ("raised_by",)
    # The disposition and its closing are nonconformance services' work: rework creates operations.
    readonly_fields = ("disposition", "status", "rework_operation", "dispositioned_by", "dispositioned_at",
                       "disposition_note", "closed_at")


class OpenReportOnlyMixin:
    """A first-article report is edited while open; once submitted its content is what was signed."""

    def report_is_open(self, report) -> bool:
        return report is None or report.status == ReportStatus.OPEN

    def has_add_permission(self, request, obj=None):
        return self.report_is_open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.report_is_open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.report_is_open(obj) and super().has_delete_permission(request, obj)


class FormTwoLineInline(OpenReportOnlyMixin, ServiceTabularInline):
    model = FormTwoLine
    fields = ("kind", "designation", "specification", "code", "supplier", "certificate_number",
              "functional_test_procedure", "acceptance_report_number")


class CharacteristicResultInline(OpenReportOnlyMixin, ServiceTabularInline):
    model = CharacteristicResult
    fields = ("characteristic", "measured_value", "attribute_accepted", "gauge", "verdict", "nonconformance",
              "measured_by", "measured_at", "notes")
    autocomplete_fields = ("characteristic", "gauge", "nonconformance")
    raw_id_fields = ("measured_by",)
    select_related = ("report", "characteristic", "gauge__gauge_type", "nonconformance", "measured_by")


FAI_SIGNATURE_FIELDS = ("status", "prepared_by", "submitted_at", "decided_by", "decided_at", "decision_note")


@admin.register(FirstArticleReport)
class FirstArticleReportAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("fair_id", "job", "operation", "fai_type", "status", "prepared_by", "submitted_at",
                    "decided_by", "decided_at")
    list_filter = ("status", "fai_type", "created_at", "decided_at")
    search_fields = ("fair_id", "job__number", "serial_number", "po_number")
    date_hierarchy = "created_at"
    list_select_related = ("job", "operation__job", "prepared_by", "decided_by")
    autocomplete_fields = ("job", "operation", "covered_characteristics")
    readonly_fields = FAI_SIGNATURE_FIELDS  # submitted, approved and rejected by the first-article services
    fieldsets = (
        (None, {"fields": ("fair_id", "job", "operation", "serial_number", "fai_type", "reason", "partial_reason",
                           "covered_characteristics")}),
        ("Form 1", {"fields": ("detail_or_assembly", "organization_name", "supplier_code", "po_number")}),
        ("Signatures", {"fields": FAI_SIGNATURE_FIELDS}),
    )
    inlines = (FormTwoLineInline, CharacteristicResultInline)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != ReportStatus.OPEN:
            return False
        return super().has_change_permission(request, obj)


class OpenReportFieldMixin:
    """Lines are added to an open report only."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "report":
            kwargs["queryset"] = FirstArticleReport.objects.filter(status=ReportStatus.OPEN)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.report.status != ReportStatus.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.report.status != ReportStatus.OPEN:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(FormTwoLine)
class FormTwoLineAdmin(OpenReportFieldMixin, ServiceHistoryAdmin):
    list_display = ("designation", "kind", "report", "specification", "code", "supplier", "certificate_number")
    list_filter = ("kind",)
    search_fields = ("designation", "specification", "certificate_number", "report__fair_id")
    list_select_related = ("report",)
    autocomplete_fields = ("report",)


@admin.register(CharacteristicResult)
class CharacteristicResultAdmin(OpenReportFieldMixin, ServiceHistoryAdmin):
    list_display = ("report", "characteristic", "measured_value", "attribute_accepted", "verdict", "gauge",
                    "measured_by", "measured_at")
    list_filter = ("verdict", "measured_at")
    search_fields = ("report__fair_id", "report__job__number", "characteristic__balloon_number")
    date_hierarchy = "measured_at"
    list_select_related = ("report", "characteristic", "gauge__gauge_type", "measured_by")
    autocomplete_fields = ("report", "characteristic", "gauge", "nonconformance")
    raw_id_fields = ("measured_by",)


class InspectionReadingInline(NoDeleteAdminMixin, ServiceTabularInline):
    model = InspectionReading
    fields = ("characteristic", "piece", "measured_value", "attribute_accepted", "gauge", "verdict")
    autocomplete_fields = ("characteristic", "gauge")
    select_related = ("record__job", "characteristic", "gauge__gauge_type")


@admin.register(InspectionRecord)
class InspectionRecordAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("__str__", "job", "operation", "kind", "sample_size", "inspector", "inspected_at", "accepted")
    list_filter = ("kind", "accepted", "inspected_at")
    search_fields = ("job__number", "pieces", "inspector__username")
    date_hierarchy = "inspected_at"
    list_select_related = ("job", "operation__job", "inspector")
    autocomplete_fields = ("job", "operation")
    raw_id_fields = ("inspector",)
    inlines = (InspectionReadingInline,)


@admin.register(InspectionReading)
class InspectionReadingAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("record", "characteristic", "piece", "measured_value", "attribute_accepted", "gauge", "verdict")
    list_filter = ("verdict",)
    search_fields = ("record__job__number", "characteristic__balloon_number", "piece")
    list_select_related = ("record__job", "characteristic", "gauge__gauge_type")
    autocomplete_fields = ("record", "characteristic", "gauge")
    show_full_result_count = False
