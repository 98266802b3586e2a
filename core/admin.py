"""The admin's base classes: every write goes through core.services.record_save, as the API's do.

Records that only services change are shown read-only; their admins use ReadOnlyAdminMixin."""

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

admin.site.site_header = "Spindle administration"
admin.site.site_title = "Spindle admin"


class ServiceModelForm(forms.ModelForm):
    """Validates the whole record as record_save will, so that what the service would refuse comes back
    as form errors, not as a 500. A plain ModelForm skips the fields it does not show (read-only, not
    editable) and every constraint naming one, and inline rows skip uniqueness against the database."""

    def _post_clean(self):
        super()._post_clean()
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


def _save(request, obj) -> None:
    try:
        record_save(instance=obj, user=request.user)
    except Forbidden as error:  # the admin checked the same permission; a crafted request lands here
        raise PermissionDenied(error.message) from error


class RequestUserInitialMixin:
    """A foreign key to a user (who measured, who raised it) starts as the signed-in user."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs.setdefault("initial", request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceAdmin(RequestUserInitialMixin, admin.ModelAdmin):
    """Saves the record and its inline rows with record_save: the role's permission, full_clean and the
    history user, in the admin's transaction. `list_select_related` also serves the autocomplete lists
    and the change page, which show the same related names."""

    form = ServiceModelForm
    list_per_page = 50

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if isinstance(self.list_select_related, list | tuple) and self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        return queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST" and transaction.get_connection().in_atomic_block:
            # A save writes the whole row, state included: re-read it locked, so that a state change a service
            # commits meanwhile waits for this save instead of being overwritten by it.
            obj = self.model._default_manager.select_for_update().get(pk=obj.pk)
        return obj

    def save_model(self, request, obj, form, change):
        _save(request, obj)

    def save_formset(self, request, form, formset, change):
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

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Old versions are shown here, not restored.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceTabularInline(RequestUserInitialMixin, admin.TabularInline):
    """Inline rows are saved by the parent's ServiceAdmin.save_formset. `select_related` names the relations
    each row's text and read-only cells show, so that the rows cost one query whatever their number."""

    form = ServiceModelForm
    extra = 0
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset


class ReadOnlyAdminMixin:
    """Shown, never added, changed or deleted here: only services write these records."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoDeleteAdminMixin:
    """Records of what happened (quality records, work orders) are kept: they are corrected, not deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, ServiceTabularInline):
    show_change_link = True
