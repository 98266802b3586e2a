"""Put the seeded floor to work for the benchmark: `python -m bench.web.prepare --out terminals.json`.

Through the services, as the terminals would: on every active machine one ready operation is set up, its first
piece made (a required first article approved through the inspection hook) and its run started. Those jobs' quantity
is raised first so that no number of 1-piece reports ever finishes them. Then N operator accounts (one per simulated
terminal) with a known password, each given a machine in turn; the list goes to the locustfile as JSON."""

import argparse
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.web.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.errors import ApplicationError  # noqa: E402
from jobs.choices import JobStatus, OperationStatus, StepKind  # noqa: E402
from jobs.models import Job, JobOperation  # noqa: E402
from jobs.services.operations import (  # noqa: E402
    operation_first_piece,
    operation_production_gate_set,
    operation_start_run,
    operation_start_setup,
)
from machines.models import Machine  # noqa: E402

BENCH_QUANTITY = 1_000_000  # 100 terminals reporting 1 piece every few seconds never get there
TERMINAL = "bench prepare"


def start_running(operation_id: int, machine: Machine, admin) -> JobOperation:
    """Setup, first piece, (first article approved), run: the lifecycle up to `running` from wherever the
    operation is (the demo seed leaves some in setup or waiting for a first article), all or nothing."""
    with transaction.atomic():
        operation = JobOperation.objects.get(pk=operation_id)
        if operation.status == OperationStatus.READY:
            operation = operation_start_setup(operation_id=operation_id, user=admin, terminal=TERMINAL,
                                              machine_id=machine.pk)
        if operation.status == OperationStatus.SETUP:
            operation = operation_first_piece(operation_id=operation_id, user=admin, terminal=TERMINAL)
        if operation.status == OperationStatus.FIRST_ARTICLE:
            # What an inspector's approval of the first article does (inspection calls this jobs service).
            operation_production_gate_set(operation_id=operation_id, user=admin, open_gate=True)
            operation = operation_start_run(operation_id=operation_id, user=admin, terminal=TERMINAL)
        if operation.status != OperationStatus.RUNNING:
            raise ApplicationError(f"{operation} ended up {operation.status}, not running")
        return operation


def put_floor_to_work(admin) -> dict[int, int]:
    """machine id -> id of the operation running on it."""
    running: dict[int, int] = {}
    machines = list(Machine.objects.filter(active=True).order_by("work_center__code", "code"))
    for machine in machines:
        current = JobOperation.objects.filter(machine=machine, status__in=OperationStatus.active()).first()
        if current is not None:  # the seed's work in progress: the bench's quantity, then on to running
            Job.objects.filter(pk=current.job_id).update(quantity=BENCH_QUANTITY, updated_at=timezone.now())
            running[machine.pk] = start_running(current.pk, machine, admin).pk
            continue
        candidates = (
            JobOperation.objects.filter(status=OperationStatus.READY, kind=StepKind.INTERNAL,
                                        machine_options__machine=machine, job__status__in=JobStatus.open())
            .exclude(pk__in=running.values())
            .order_by("job__due_date", "job_id", "operation_number")
            .values_list("pk", "job_id")[:30]
        )
        for operation_id, job_id in candidates:
            # The quantity first: start_run and the reports then never see the job as nearly done.
            Job.objects.filter(pk=job_id).update(quantity=BENCH_QUANTITY, updated_at=timezone.now())
            try:
                start_running(operation_id, machine, admin)
            except (ApplicationError, ValidationError) as exc:  # a fixture busy elsewhere, …: the next one
                print(f"  {machine.code}: operation {operation_id} refused ({exc}); trying another", file=sys.stderr)
                continue
            running[machine.pk] = operation_id
            break
        else:
            print(f"  {machine.code}: no ready operation could be started; no terminal for it", file=sys.stderr)
    return running


def make_operators(count: int, password: str) -> list[str]:
    """`count` operator accounts; one password hash for all (a PBKDF2 hash costs ~0.5 s, 100 would cost a minute)."""
    user_model = get_user_model()
    group = Group.objects.get(name="operator")
    names = [f"bench{number:03d}" for number in range(1, count + 1)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    encoded = make_password(password)
    user_model.objects.bulk_create([
        user_model(username=name, password=encoded, first_name="Terminal", last_name=name[5:])
        for name in names if name not in existing
    ])
    user_model.objects.filter(username__in=names).update(password=encoded)
    group.user_set.add(*user_model.objects.filter(username__in=names))
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=100)
    parser.add_argument("--password", default="bench-terminal-pw")
    parser.add_argument("--out", required=True, help="where to write the terminals (JSON)")
    args = parser.parse_args()

    began = time.monotonic()
    admin = get_user_model().objects.get(username="admin")
    running = put_floor_to_work(admin)
    if not running:
        sys.exit("No operation could be put into running: nothing for the terminals to report on.")
    names = make_operators(args.terminals, args.password)
    machine_ids = sorted(running)
    terminals = [
        {"username": name, "password": args.password, "machine_id": machine_ids[index % len(machine_ids)],
         "operation_id": running[machine_ids[index % len(machine_ids)]]}
        for index, name in enumerate(names)
    ]
    with open(args.out, "w") as file:
        json.dump({"machines_running": len(running), "machines_active": Machine.objects.filter(active=True).count(),
                   "terminals": terminals}, file, indent=1)
    print(f"  {len(running)} of {Machine.objects.filter(active=True).count()} machines running a bench operation; "
          f"{len(names)} operator accounts; {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
