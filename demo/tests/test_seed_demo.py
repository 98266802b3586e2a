"""`manage.py seed_demo`: the demo shop as its users meet it, run twice, and the same for the same seed."""

import dataclasses
import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import Lead
from django.utils import timezone

from demo import catalog
from inspection.choices import GaugeStatus
from inspection.models import Characteristic, Gauge
from jobs.choices import JobStatus, OperationStatus
from jobs.models import Job, JobOperation, LabourEntry, ProductionEntry, RoutingStep
from machines.models import Fixture, Machine, MachineStateEvent, WorkCenter

ROLES = ("operator", "inspector", "planner", "manager", "admin")


def seed(number: int, *options: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--seed", str(number), *options, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (WorkCenter, Machine, Fixture, Job, JobOperation, RoutingStep, Characteristic, Gauge,
                          LabourEntry, ProductionEntry, MachineStateEvent)}


def jobs_made() -> list[tuple]:
    return list(Job.objects.order_by("number").values_list("number", "part_revision__part__number", "quantity",
                                                            "due_date", "status"))


@pytest.mark.django_db
def test_the_demo_shop_is_there_once(client):
    output = seed(7)
    today = timezone.localdate()

    assert WorkCenter.objects.count() == 6
    assert Machine.objects.count() == 14
    assert not WorkCenter.objects.annotate(n=Count("machines")).filter(n=0).exists()
    assert not Machine.objects.exclude(mtconnect_agent_url="").exists()  # connected only to agents it is given

    # The live board has a current state for every machine, and no machine has two.
    assert list(MachineStateEvent.objects.filter(ended_at__isnull=True).values_list("machine", flat=True)
                .order_by("machine")) == list(Machine.objects.order_by("pk").values_list("pk", flat=True))

    # Each machine's status log is one unbroken line: every interval ends where the next one starts.
    events = MachineStateEvent.objects.annotate(
        next_start=Window(Lead("started_at"), partition_by=[F("machine_id")], order_by=F("started_at").asc()))
    assert events.filter(ended_at__isnull=False).count() > 14 * 90
    assert not events.filter(ended_at__gt=F("next_start")).exists()  # no overlap
    assert not events.filter(ended_at__lt=F("next_start")).exists()  # no gap
    first = MachineStateEvent.objects.order_by("started_at").first()
    assert first.started_at <= timezone.now() - dt.timedelta(days=89)

    open_jobs = Job.objects.filter(status__in=JobStatus.open())
    assert 70 <= open_jobs.count() <= 90
    assert not open_jobs.filter(due_date__gt=today + dt.timedelta(weeks=6)).exists()
    assert open_jobs.filter(due_date__gte=today).count() >= 0.9 * open_jobs.count()
    assert 1 <= open_jobs.filter(status=JobStatus.PLANNED).count() <= 10  # a handful for the planner to release
    assert JobOperation.objects.filter(job__in=open_jobs, status=OperationStatus.READY).exists()
    # Work in progress, made by the operator's own actions: something for the board, the terminal and inspection.
    active = JobOperation.objects.filter(status__in=OperationStatus.active())
    on_machines = Counter(active.values_list("status", flat=True))
    assert on_machines[OperationStatus.FIRST_ARTICLE] == 1 and on_machines[OperationStatus.RUNNING] == 2
    assert on_machines[OperationStatus.SETUP] >= 1

    # The past: finished jobs with the labour and quantities of their operations.
    complete = Job.objects.filter(status=JobStatus.COMPLETE)
    assert complete.count() >= 100
    without_entries = complete.annotate(
        labour=Count("operations__labour_entries", distinct=True),
        production=Count("operations__production_entries", distinct=True),
    ).filter(Q(labour=0) | Q(production=0))
    assert not without_entries.exists()
    assert ProductionEntry.objects.filter(quantity_scrap__gt=0, scrap_reason__isnull=False).exists()

    overdue = Gauge.objects.filter(status=GaugeStatus.OVERDUE)
    assert overdue.exists()
    assert not overdue.filter(next_due_on__gte=today).exists()

    for role in ROLES:
        assert client.login(username=role, password="spindle-demo"), role
        assert f"{role:<10} spindle-demo" in output

    before = counts()
    again = seed(7)
    assert "already seeded" in again
    assert counts() == before


@pytest.mark.django_db
def test_the_same_seed_makes_the_same_shop_and_another_seed_another(monkeypatch):
    # A smaller shop runs every stage and every random draw of the small one, in a fraction of the time.
    monkeypatch.setitem(catalog.SIZES, "small", dataclasses.replace(
        catalog.SIZES["small"], parts=6, history_days=7, job_history_days=7, history_jobs=8, open_jobs=12))
    made = {}
    for run, number in (("first", 7), ("second", 7), ("other", 8)):
        with transaction.atomic():  # each run starts from an empty shop
            seed(number)
            made[run] = jobs_made()
            transaction.set_rollback(True)
    assert len(made["first"]) >= 12
    assert made["second"] == made["first"]
    assert made["other"] != made["first"]


@pytest.mark.django_db
def test_a_few_machines_follow_the_replay_agents_it_is_given_and_the_rest_stay_operator_only(monkeypatch):
    monkeypatch.setitem(catalog.SIZES, "small", dataclasses.replace(
        catalog.SIZES["small"], parts=6, history_days=7, job_history_days=7, history_jobs=8, open_jobs=12))
    output = seed(7, "--agent", "okuma=http://127.0.0.1:8001", "--agent", "vmc-haas=http://127.0.0.1:8002")

    def connected() -> dict[str, tuple[str, str, str]]:
        return {code: (kind, url, device) for code, kind, url, device in Machine.objects.exclude(
            mtconnect_agent_url="").values_list("code", "kind", "mtconnect_agent_url", "mtconnect_device")}

    machines = connected()
    devices = {device: (recording, kinds) for recording, device, kinds in catalog.AGENT_DEVICES}
    assert sorted(device for _, _, device in machines.values()) == ["Haas_1", "OKUMA", "VMC-3Axis"]
    for code, (kind, url, device) in machines.items():
        recording, kinds = devices[device]
        assert kind in kinds and url == {"okuma": "http://127.0.0.1:8001", "vmc-haas": "http://127.0.0.1:8002"}[
            recording]
        assert f"{code} " in output and f"{device} at {url}" in output
    # In production or with no operation: never a setup or a first article, which the signals would not change.
    busy = dict(JobOperation.objects.filter(status__in=OperationStatus.active()).values_list("machine__code", "status"))
    assert {busy.get(code) for code in machines} <= {OperationStatus.RUNNING, None}
    assert Machine.objects.filter(mtconnect_agent_url="").count() == Machine.objects.count() - 3

    # The next run's agents are elsewhere: the same machines follow them there.
    again = seed(7, "--agent", "okuma=http://127.0.0.1:9001", "--agent", "vmc-haas=http://127.0.0.1:9002")
    assert "already seeded" in again
    assert {code: device for code, (_, _, device) in connected().items()} == {
        code: device for code, (_, _, device) in machines.items()}
    assert {url for _, url, _ in connected().values()} == {"http://127.0.0.1:9001", "http://127.0.0.1:9002"}
    with pytest.raises(CommandError, match="RECORDING=URL"):
        seed(7, "--agent", "mazak=http://127.0.0.1:9003")
