"""The test suite: PostgreSQL and Redis started by `make test` (DATABASE_URL, REDIS_URL)."""

import os

from .base import *  # noqa: F403

if not os.environ.get("DATABASE_URL"):
    raise RuntimeError("Tests run against PostgreSQL: run them with `make test`, which sets DATABASE_URL.")

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", "/tmp/spindle-test-media"))  # noqa: F405

# Serve static files straight from the source folders: no collectstatic before a run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
