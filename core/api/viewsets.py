from typing import Any

from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from core.services import record_create, record_update


class RecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Any],
):
    """List, detail, create and update of plain records; writes go through the record services,
    which check the role's permission and the model's constraints."""

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = record_create(
            model=self.get_queryset().model, user=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        assert serializer.instance is not None  # an update's serializer holds the record
        serializer.instance = record_update(
            instance=serializer.instance, user=self.request.user, data=dict(serializer.validated_data)
        )
