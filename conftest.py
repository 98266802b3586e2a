"""Fixtures shared by every app's tests and the cross-app tests in tests/."""

import contextlib
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

pytest_plugins = ["tests.fixtures"]

PASSWORD = "floor-Pass-2024"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as it starts with an empty database (the rendered board is shared
    for a few seconds, whatever changed)."""
    cache.clear()


@pytest.fixture
def make_user(db):
    def make(role: str | None = None, username: str | None = None, **fields):
        user = get_user_model().objects.create_user(
            username=username or role or "nobody", password=PASSWORD, **fields
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def operator(make_user):
    return make_user("operator")


@pytest.fixture
def inspector(make_user):
    return make_user("inspector")


@pytest.fixture
def planner(make_user):
    return make_user("planner")


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def shop_admin(make_user):
    return make_user("admin", is_staff=True)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: Playwright cannot download its own browser here.
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@contextlib.contextmanager
def _celery_worker(db_blocker, queue: str, name: str):
    """A real Celery worker in its own process, on the test Redis and the test database."""
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    with db_blocker.unblock():
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    hostname = f"{name}-{os.getpid()}@localhost"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING", "-Q", queue,
         "--hostname", hostname, "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env,
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.inspect(destination=[hostname], timeout=1).ping():
            break
        if process.poll() is not None:
            raise RuntimeError("The Celery worker exited at start.")
    else:
        process.terminate()
        raise RuntimeError("The Celery worker did not answer within 60 s.")
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """The worker of the default queue, for the whole session."""
    with _celery_worker(django_db_blocker, "celery", "tests") as process:
        yield process


@pytest.fixture
def scheduling_worker(django_db_setup, django_db_blocker):
    """A worker of the scheduling queue of its own, so that a test may kill it."""
    with _celery_worker(django_db_blocker, "scheduling", "scheduling") as process:
        yield process
