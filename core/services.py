"""Writes of plain master-data records (no state, no side effects) share one service pair.
Records with rules of their own have services in their app that call these or replace them."""

from typing import Any

from django.db import models, transaction

from core.permissions import require_perm


def model_perm(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _split_many_to_many(model: type[models.Model], data: dict[str, Any]) -> tuple[dict, dict]:
    m2m_names = {field.name for field in model._meta.many_to_many}
    plain = {key: value for key, value in data.items() if key not in m2m_names}
    return plain, {key: value for key, value in data.items() if key in m2m_names}


def _save(instance: models.Model, *, user, m2m: dict) -> models.Model:
    instance.full_clean()
    instance._history_user = user  # django-simple-history records who changed it
    instance.save()
    for name, value in m2m.items():
        getattr(instance, name).set(value)
    return instance


@transaction.atomic
def record_create(*, model: type[models.Model], user, data: dict[str, Any]) -> models.Model:
    require_perm(user, model_perm(model, "add"))
    plain, m2m = _split_many_to_many(model, data)
    return _save(model(**plain), user=user, m2m=m2m)


@transaction.atomic
def record_update(*, instance: models.Model, user, data: dict[str, Any]) -> models.Model:
    model = type(instance)
    require_perm(user, model_perm(model, "change"))
    instance = model.objects.select_for_update().get(pk=instance.pk)
    plain, m2m = _split_many_to_many(model, data)
    for name, value in plain.items():
        setattr(instance, name, value)
    return _save(instance, user=user, m2m=m2m)
