from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated


class ModelPermissions(DjangoModelPermissions):
    """Any logged-in user may read; writing needs the model's add/change permission.
    Domain verbs (release, start setup…) are checked again by their service."""

    def has_permission(self, request, view):
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return IsAuthenticated().has_permission(request, view)
        return super().has_permission(request, view)
