"""What the inspection app's writes read from a request, parsed once for the API's JSON and a page's form alike:
DRF serializers, so that the API documents each."""

from django.core.files.uploadedfile import UploadedFile
from rest_framework import serializers

from core.errors import ApplicationError


def plan_file_text(upload: UploadedFile) -> str:
    """An uploaded balloon list as text; a spreadsheet's plain "CSV" export, not UTF-8, is refused with the fix."""
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError("The file is not UTF-8 text: save it as “CSV UTF-8”.", field="file") from None


class ReportOpenInput(serializers.Serializer):
    operation = serializers.IntegerField()


class ResultInput(serializers.Serializer):
    characteristic = serializers.IntegerField()
    value = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                  help_text='A number, optionally with its unit: "10.01", "0.394 in".')
    accepted = serializers.BooleanField(required=False, allow_null=True, default=None)
    gauge = serializers.IntegerField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class FormTwoLineInput(serializers.Serializer):
    kind = serializers.CharField()
    designation = serializers.CharField()
    specification = serializers.CharField()
    code = serializers.CharField(required=False, allow_blank=True, default="")
    supplier = serializers.CharField(required=False, allow_blank=True, default="")
    certificate_number = serializers.CharField(required=False, allow_blank=True, default="")
    functional_test_procedure = serializers.CharField(required=False, allow_blank=True, default="")
    acceptance_report_number = serializers.CharField(required=False, allow_blank=True, default="")


class SignatureInput(serializers.Serializer):
    password = serializers.CharField(help_text="The signer re-enters the password: the electronic signature.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CalibrateInput(serializers.Serializer):
    calibrated_on = serializers.DateField()
    as_found_in_tolerance = serializers.BooleanField()
    as_left_in_tolerance = serializers.BooleanField()
    certificate_number = serializers.CharField()
    performed_by = serializers.CharField()
    next_due_on = serializers.DateField(required=False, allow_null=True, default=None)
    as_found_notes = serializers.CharField(required=False, allow_blank=True, default="")
    as_left_notes = serializers.CharField(required=False, allow_blank=True, default="")


class GaugeStatusInput(serializers.Serializer):
    status = serializers.CharField()


class NCRaiseInput(serializers.Serializer):
    job = serializers.IntegerField()
    operation = serializers.IntegerField(required=False, allow_null=True, default=None)
    quantity = serializers.IntegerField(default=1)
    description = serializers.CharField()
    source = serializers.CharField(required=False, default="in_process")


class NCDispositionInput(serializers.Serializer):
    disposition = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NCCloseInput(serializers.Serializer):
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")
    corrective_action = serializers.CharField(required=False, allow_blank=True, default="")


class PlanImportInput(serializers.Serializer):
    part_revision = serializers.IntegerField()
    file = serializers.FileField(required=False, help_text="The balloon list as CSV (see plan_import_csv).")
    text = serializers.CharField(required=False, allow_blank=True, help_text="Or the CSV as text.")


class PlanCopyInput(serializers.Serializer):
    to_revision = serializers.IntegerField()


class ReadingInput(serializers.Serializer):
    characteristic = serializers.IntegerField()
    piece = serializers.CharField(required=False, allow_blank=True, default="")
    value = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                  help_text='A number, optionally with its unit: "10.01", "0.394 in".')
    accepted = serializers.BooleanField(required=False, allow_null=True, default=None)
    gauge = serializers.IntegerField(required=False, allow_null=True, default=None)


class InspectionRecordInput(serializers.Serializer):
    operation = serializers.IntegerField()
    kind = serializers.CharField(help_text="in_process or final")
    pieces = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Which pieces, e.g. 1, 10, 20 (from the readings if left out).")
    sample_size = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    readings = ReadingInput(many=True, allow_empty=False)
