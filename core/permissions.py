from django.contrib.auth.models import AnonymousUser, User

from core.errors import Forbidden


def require_perm(user: User | AnonymousUser | None, perm: str) -> None:
    """Refuse unless `user` holds `perm` ("app.codename"). Services call this first."""
    if user is None or not user.is_authenticated or not user.is_active or not user.has_perm(perm):
        raise Forbidden(f"Your role does not allow this ({perm}).")
