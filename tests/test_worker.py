"""A task through the real broker (Redis), a real Celery worker process and back."""

import pytest

from core.roles import ROLES
from core.tasks import roles_known

pytestmark = pytest.mark.worker


@pytest.mark.django_db
def test_a_task_round_trip_through_redis_and_a_worker(celery_worker_process):
    # The worker reads the test database: the role groups made by migrate are what it returns.
    assert roles_known.delay().get(timeout=60) == sorted(ROLES)
