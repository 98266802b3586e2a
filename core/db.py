"""Small reads of several values at once, for the cheap "did anything change?" checks of live pages."""

import hashlib
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

_M = TypeVar("_M", bound=Model)


def latest(queryset: QuerySet[_M], name: str) -> QuerySet[_M, dict[str, Any]]:
    return queryset.order_by(f"-{name}").values(name)[:1]  # ORDER BY … DESC LIMIT 1: an index scan where indexed


def scalars(*querysets: QuerySet[Any, Any]) -> tuple[Any, ...]:
    """One value from each queryset in a single round trip: SELECT (q1), (q2), …"""
    using = querysets[0].db
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        sql, query_params = queryset.query.get_compiler(using=using).as_sql()
        parts.append(f"({sql})")
        params.extend(query_params)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return tuple(cursor.fetchone())


def fingerprint(*values: object) -> str:
    """A short, stable text for a tuple of values: a version to compare or to key a cache by."""
    return hashlib.sha1(repr(values).encode(), usedforsecurity=False).hexdigest()[:16]
