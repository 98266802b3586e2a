"""Two terminals at once, on real PostgreSQL: row locks decide, nothing is counted twice."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.errors import Conflict
from jobs.choices import OperationStatus
from jobs.models import LabourEntry
from jobs.selectors import operation_quantities
from jobs.services.operations import operation_first_piece, operation_report, operation_start_setup
from machines.models import MachineStateEvent

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(action):
    def run(*args):
        try:
            return action(*args)
        except Conflict as refused:
            return refused
        finally:
            connection.close()  # each thread has its own connection

    return run


def test_two_terminals_starting_the_same_operation_one_wins(floor, make_user):
    operators = [make_user("operator", username=f"op{n}") for n in range(2)]
    start = in_thread(lambda user: operation_start_setup(operation_id=floor.turn.pk,
                                                         machine_id=floor.shop.lathe.pk, user=user))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(start, operators))

    assert sum(isinstance(result, Conflict) for result in results) == 1
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.SETUP
    assert LabourEntry.objects.filter(operation=floor.turn).count() == 1
    assert MachineStateEvent.objects.filter(machine=floor.shop.lathe).count() == 1


def test_fifty_concurrent_reports_of_one_piece_count_fifty(floor, make_user):
    operators = [make_user("operator", username=f"op{n}") for n in range(50)]
    floor.shop.job.quantity = 100
    floor.shop.job.save()
    operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operators[0])
    operation_first_piece(operation_id=floor.turn.pk, user=operators[0])

    report = in_thread(lambda user: operation_report(operation_id=floor.turn.pk, user=user, good=1))
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(report, operators))

    assert not [result for result in results if isinstance(result, Exception)]
    assert operation_quantities(floor.turn)["good"] == 50


def test_a_double_tap_with_one_key_applies_once(floor, operator):
    operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operator)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    tap = in_thread(lambda _: operation_report(operation_id=floor.turn.pk, user=operator, good=2,
                                               idempotency_key="nonce-42"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(tap, range(4)))
    assert operation_quantities(floor.turn)["good"] == 2
