"""The cache as pages use it: an optimisation only, so a cache that is down (Redis) costs speed, never a page."""

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str) -> Any:  # whatever was cached
    """The cached value, or None when there is none or the cache cannot be reached."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Cache unavailable; going without it", exc_info=True)
        return None


def cache_set(key: str, value: object, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("Cache unavailable; %s not kept", key, exc_info=True)
