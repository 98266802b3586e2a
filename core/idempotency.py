from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from core.errors import Conflict
from core.models import IdempotencyKey


def idempotency_claim(*, key: str | None, user: User, action: str, target_id: int) -> bool:
    """Claim `key` inside the caller's transaction. True when the same request was applied already:
    the caller then returns the current record without applying anything. A concurrent duplicate
    waits on the unique index until the first commits, then sees the key; if the first rolls back,
    the key goes with it and the duplicate applies instead."""
    if not key:
        return False
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key[:100], action=action, target_id=target_id)
    except IntegrityError:
        first = IdempotencyKey.objects.get(user=user, key=key[:100])
        if (first.action, first.target_id) != (action, target_id):
            raise Conflict("This Idempotency-Key was already used for a different request.",
                           code="idempotency_key_reused") from None
        return True
    return False
