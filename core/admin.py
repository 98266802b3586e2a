"""The admin's base classes: every write goes through core.services.record_save, as the API's do.

Records that only services change are shown read-only; their admins use ReadOnlyAdminMixin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import InlineForeignKeyField
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from core.errors import Forbidden
from core.services import record_save

if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin
    from django.db.models import ForeignKey, Model, QuerySet
    from django.forms import BaseModelFormSet, ModelChoiceField
    from django.http import HttpRequest, HttpResponse

    # Django's classes take type arguments only in django-stubs, not at run time
    _ModelForm = forms.ModelForm[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
    _TabularInline = admin.TabularInline[Any, Any]
    _AdminMixinBase = BaseModelAdmin[Any]
else:
    _ModelForm, _ModelAdmin, _TabularInline = forms.ModelForm, admin.ModelAdmin, admin.TabularInline
    _AdminMixinBase = object

admin.site.site_header = "Spindle administration"
admin.site.site_title = "Spindle admin"


class ServiceModelForm(_ModelForm):
    """Validates the whole record as record_save will, so that what the service would refuse comes back
    as form errors, not as a 500. A plain ModelForm skips the fields it does not show (read-only, not
    editable) and every constraint naming one, and inline rows skip uniqueness against the database."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # a private hook that django-stubs does not declare
        if self.errors:
            return
        # The row's link to a parent that is being added has no value yet; the formset sets it on save.
        exclude = {
            name for name, field in self.fields.items()
            if isinstance(field, InlineForeignKeyField)
            and getattr(self.instance, self.instance._meta.get_field(name).attname) is None
        }
        try:
            self.instance.full_clean(exclude=exclude)
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                if name == NON_FIELD_ERRORS or name in self.fields:
                    self.add_error(None if name == NON_FIELD_ERRORS else name, errors)
                else:
                    label = capfirst(self.instance._meta.get_field(name).verbose_name)
                    self.add_error(None, [f"{label}: {message}" for item in errors for message in item.messages])


def _save(request: HttpRequest, obj: Model) -> None:
    try:
        record_save(instance=obj, user=request.user)
    except Forbidden as error:  # the admin checked the same permission; a crafted request lands here
        raise PermissionDenied(error.message) from error


class RequestUserInitialMixin(_AdminMixinBase):
    """A foreign key to a user (who measured, who raised it) starts as the signed-in user."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is get_user_model():
            kwargs.setdefault("initial", request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceAdmin(RequestUserInitialMixin, _ModelAdmin):
    """Saves the record and its inline rows with record_save: the role's permission, full_clean and the
    history user, in the admin's transaction. `list_select_related` also serves the autocomplete lists
    and the change page, which show the same related names."""

    form = ServiceModelForm
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if isinstance(self.list_select_related, list | tuple) and self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        return queryset

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST" and transaction.get_connection().in_atomic_block:
            # A save writes the whole row, state included: re-read it locked, so that a state change a service
            # commits meanwhile waits for this save instead of being overwritten by it.
            obj = self.model._default_manager.select_for_update().get(pk=obj.pk)
        return obj

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: Any) -> None:
        _save(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseModelFormSet[Any, Any], change: Any) -> None:
        # The inline's form reports rows the user may not add or change as unchanged: they are not in here.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._history_user = request.user
            obj.delete()
        for obj in instances:
            _save(request, obj)
        formset.save_m2m()


class ServiceHistoryAdmin(ServiceAdmin, SimpleHistoryAdmin):
    """History is shown, never reverted: a revert writes every field of an old version, state included,
    past the services."""

    def revert_disabled(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied("Old versions are shown here, not restored.")
        # django-simple-history has no annotations
        return super().history_form_view(  # type: ignore[no-untyped-call, no-any-return]
            request, object_id, version_id, extra_context
        )


class ServiceTabularInline(RequestUserInitialMixin, _TabularInline):
    """Inline rows are saved by the parent's ServiceAdmin.save_formset. `select_related` names the relations
    each row's text and read-only cells show, so that the rows cost one query whatever their number."""

    form = ServiceModelForm
    extra = 0
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset


class ReadOnlyAdminMixin:
    """Shown, never added, changed or deleted here: only services write these records."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class NoDeleteAdminMixin:
    """Records of what happened (quality records, work orders) are kept: they are corrected, not deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, ServiceTabularInline):
    show_change_link = True
