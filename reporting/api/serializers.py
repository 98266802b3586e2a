"""The board's data as JSON: the same selector as the page, so the fields mean the same."""

from rest_framework import serializers


class BoardWorkCenterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class BoardMachineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    work_center = BoardWorkCenterSerializer()


class BoardOperationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job_number = serializers.CharField(source="job.number")
    job_quantity = serializers.IntegerField(source="job.quantity")
    due_date = serializers.DateField(source="job.due_date")
    operation_number = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    part_number = serializers.CharField(source="job.part_revision.part.number")
    revision = serializers.CharField(source="job.part_revision.revision")


class BoardCurrentOperationSerializer(BoardOperationSerializer):
    good_quantity = serializers.IntegerField()
    scrap_quantity = serializers.IntegerField()


class BoardSignalSerializer(serializers.Serializer):
    connected = serializers.BooleanField()
    error = serializers.CharField(help_text="Why the signals are lost, when they are.")
    lost_at = serializers.DateTimeField(allow_null=True, help_text="Since when the signals are lost.")


class BoardTileSerializer(serializers.Serializer):
    machine = BoardMachineSerializer()
    state = serializers.CharField()
    state_label = serializers.CharField()
    state_since = serializers.DateTimeField(allow_null=True)
    seconds_in_state = serializers.IntegerField(allow_null=True)
    state_reason = serializers.CharField(help_text="The downtime reason of a down machine, else empty.")
    operation = BoardCurrentOperationSerializer(allow_null=True, help_text="The operation on the machine now.")
    operators = serializers.ListField(child=serializers.CharField(), help_text="Who is logged on to it now.")
    late = serializers.BooleanField(help_text="The current operation's job is past its due date.")
    first_article_waiting = serializers.BooleanField()
    next_operation = BoardOperationSerializer(allow_null=True, help_text="First ready operation of the dispatch list.")
    next_late = serializers.BooleanField()
    signal = BoardSignalSerializer(allow_null=True, help_text="The machine's own signals (MTConnect or an edge "
                                   "device): live or lost; null where none is set up.")


class BoardCountsSerializer(serializers.Serializer):
    """Active machines by state: down and planned down apart; "stopped" is stopped or in alarm by the machine's own
    signals; "other" is off shift, unknown plus disconnected."""

    running = serializers.IntegerField()
    setup = serializers.IntegerField()
    down = serializers.IntegerField()
    stopped = serializers.IntegerField()
    planned_down = serializers.IntegerField()
    idle = serializers.IntegerField()
    other = serializers.IntegerField()


class BoardSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="Changes whenever anything on the board changes; also the ETag.")
    today = serializers.DateField()
    generated_at = serializers.DateTimeField()
    counts = BoardCountsSerializer(source="header_counts")
    late_jobs = serializers.IntegerField(help_text="Open jobs past their due date.")
    first_articles_waiting = serializers.IntegerField(help_text="Operations waiting for a first article approval.")
    machines = BoardTileSerializer(many=True, source="tiles")


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    """A report table: columns in order, rows keyed by column; a ratio with no planned time under it is the
    text "no planned time", one whose planned time has no data (unknown time only) "no data", an undefined one
    null."""

    name = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.SerializerMethodField()
    rows = serializers.ListField(child=serializers.DictField())
    notes = serializers.ListField(child=serializers.CharField())

    def get_columns(self, table) -> list[dict]:
        return [{"key": key, "label": label} for key, label in table.columns]
