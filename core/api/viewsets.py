from rest_framework import mixins, viewsets

from core.services import record_create, record_update


class RecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, detail, create and update of plain records; writes go through the record services,
    which check the role's permission and the model's constraints."""

    def perform_create(self, serializer):
        serializer.instance = record_create(
            model=self.get_queryset().model, user=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = record_update(
            instance=serializer.instance, user=self.request.user, data=dict(serializer.validated_data)
        )
