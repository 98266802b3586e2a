"""Small reads of several values at once, for the cheap "did anything change?" checks of live pages."""

import hashlib

from django.db import connections
from django.db.models import QuerySet


def latest(queryset: QuerySet, name: str) -> QuerySet:
    return queryset.order_by(f"-{name}").values(name)[:1]  # ORDER BY … DESC LIMIT 1: an index scan where indexed


def scalars(*querysets: QuerySet) -> tuple:
    """One value from each queryset in a single round trip: SELECT (q1), (q2), …"""
    using = querysets[0].db
    parts, params = [], []
    for queryset in querysets:
        sql, query_params = queryset.query.get_compiler(using=using).as_sql()
        parts.append(f"({sql})")
        params.extend(query_params)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return tuple(cursor.fetchone())


def fingerprint(*values) -> str:
    """A short, stable text for a tuple of values: a version to compare or to key a cache by."""
    return hashlib.sha1(repr(values).encode(), usedforsecurity=False).hexdigest()[:16]
