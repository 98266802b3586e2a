from django.http import HttpRequest

from core.roles import user_roles


def roles(request: HttpRequest) -> dict[str, list[str]]:
    return {"user_roles": user_roles(request.user) if hasattr(request, "user") else []}
