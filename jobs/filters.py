import django_filters

from jobs.choices import JobStatus, OperationStatus
from jobs.models import Job, JobOperation


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    part = django_filters.CharFilter(field_name="part_revision__part__number", lookup_expr="iexact")
    customer = django_filters.NumberFilter(field_name="order_line__order__customer")

    class Meta:
        model = Job
        fields = ["status", "part_revision", "priority", "material_status"]


class OperationFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OperationStatus.choices)

    class Meta:
        model = JobOperation
        fields = ["status", "job", "work_center", "machine", "kind"]
