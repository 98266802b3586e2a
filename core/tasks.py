from celery import shared_task
from django.contrib.auth.models import Group


@shared_task
def roles_known() -> list[str]:
    """A round trip through broker, worker and database: the role names the worker can read."""
    return sorted(Group.objects.values_list("name", flat=True))
