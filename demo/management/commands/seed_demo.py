"""`manage.py seed_demo`: a believable high-mix CNC shop, written through the services of the apps (demo/seeder.py).

Idempotent: a shop that already has the demo's work centers is left as it is, except that `--agent` points its
connected machines at the replay agents of this run (demo/connections.py)."""

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.catalog import DEMO_PASSWORD, DEMO_USERS, SIZES
from demo.connections import RECORDINGS, machines_connect
from demo.seeder import Seeder
from jobs.models import Job
from machines.models import Machine, WorkCenter


class Command(BaseCommand):
    help = "Build a believable demo machine shop through the services. Deterministic for a seed; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same shop.")
        parser.add_argument("--size", choices=sorted(SIZES), default="small",
                            help="small: 14 machines and 90 days of history (the demo); large: 60 machines and a "
                                 "year of machine history (benchmarks).")
        parser.add_argument("--agent", action="append", default=[], metavar="RECORDING=URL",
                            help=f"Connect the demo's machines of a recording ({', '.join(RECORDINGS)}) to the "
                                 "replay agent at URL (`manage.py mtconnect_replay`), e.g. "
                                 "okuma=http://127.0.0.1:8001; repeat for each. Without it no machine is connected.")

    def handle(self, *args: Any, seed: int, size: str, agent: list[str], **options: Any) -> None:
        agents = self.agents(agent)
        if WorkCenter.objects.filter(code="MILL3").exists():
            if not agents:
                self.stdout.write("The demo shop is already seeded: nothing to do (`manage.py flush` empties it).")
                return
            self.stdout.write("The demo shop is already seeded (`manage.py flush` empties it); connecting machines.")
            admin = get_user_model().objects.filter(username="admin").first()
            if admin is None:
                raise CommandError("The demo's admin user is gone: nobody to connect its machines as.")
            self.connected(machines_connect(agents=agents, user=admin))
            return
        if WorkCenter.objects.exists() or Job.objects.exists():
            raise CommandError("This database already holds a shop; seed_demo only fills an empty one.")
        began = time.monotonic()
        self.stdout.write(f"Seeding the {size} demo shop (seed {seed}):")
        seeder = Seeder(seed=seed, size=SIZES[size], write=self.progress)
        with transaction.atomic():  # all or nothing: a failed run leaves no half-seeded shop behind
            seeder.run()
            connected = machines_connect(agents=agents, user=seeder.admin)
        self.stdout.write(f"Seeded in {time.monotonic() - began:.0f} s:")
        for line in seeder.summary():
            self.stdout.write(line)
        self.connected(connected)
        self.stdout.write("Demo logins:")
        for username, first_name, last_name, _ in DEMO_USERS:
            password = "(existing account, password unchanged)" if username in seeder.kept_users else DEMO_PASSWORD
            self.stdout.write(f"  {username:<10} {password:<12} {first_name} {last_name}")

    def progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # the large size takes minutes: show each stage as it starts

    def agents(self, values: list[str]) -> dict[str, str]:
        agents = {}
        for value in values:
            recording, _, url = value.partition("=")
            if recording not in RECORDINGS or not url:
                raise CommandError(f"--agent {value!r}: give RECORDING=URL, a recording being one of "
                                   f"{', '.join(RECORDINGS)}.")
            agents[recording] = url
        return agents

    def connected(self, machines: list[Machine]) -> None:
        if machines:
            self.stdout.write("Connected to the replay agents (the other machines are operator-only):")
        for machine in machines:
            self.stdout.write(f"  {machine.code:<7} {machine.name:<22} {machine.mtconnect_device} at "
                              f"{machine.mtconnect_agent_url}")
