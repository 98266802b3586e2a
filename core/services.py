"""Writes of plain master-data records (no state, no side effects) share one service pair.
Records with rules of their own have services in their app that call these or replace them."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction

from core.permissions import require_perm


def model_perm(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _split_many_to_many(model: type[models.Model], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    m2m_names = {field.name for field in model._meta.many_to_many}
    plain = {key: value for key, value in data.items() if key not in m2m_names}
    return plain, {key: value for key, value in data.items() if key in m2m_names}


@transaction.atomic
def record_save(
    *, instance: models.Model, user: User | AnonymousUser, m2m: dict[str, Any] | None = None
) -> models.Model:
    """Check the role's permission (add for a new record, change for an existing one), validate the
    whole record and save it as `user`. For an instance already filled in, as the admin's forms do."""
    require_perm(user, model_perm(type(instance), "add" if instance._state.adding else "change"))
    instance.full_clean()
    instance._history_user = user  # type: ignore[attr-defined]  # django-simple-history records who changed it
    instance.save()
    for name, value in (m2m or {}).items():
        getattr(instance, name).set(value)
    return instance


def record_create(*, model: type[models.Model], user: User | AnonymousUser, data: dict[str, Any]) -> models.Model:
    plain, m2m = _split_many_to_many(model, data)
    return record_save(instance=model(**plain), user=user, m2m=m2m)


@transaction.atomic
def record_update(*, instance: models.Model, user: User | AnonymousUser, data: dict[str, Any]) -> models.Model:
    model = type(instance)
    require_perm(user, model_perm(model, "change"))  # refuse before taking the row lock
    instance = model._default_manager.select_for_update().get(pk=instance.pk)
    plain, m2m = _split_many_to_many(model, data)
    for name, value in plain.items():
        setattr(instance, name, value)
    return record_save(instance=instance, user=user, m2m=m2m)
