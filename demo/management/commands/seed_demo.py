"""`manage.py seed_demo`: a believable high-mix CNC shop, written through the services of the apps (demo/seeder.py).

Idempotent: a shop that already has the demo's work centers is left as it is."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.catalog import DEMO_PASSWORD, DEMO_USERS, SIZES
from demo.seeder import Seeder
from jobs.models import Job
from machines.models import WorkCenter


class Command(BaseCommand):
    help = "Build a believable demo machine shop through the services. Deterministic for a seed; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same shop.")
        parser.add_argument("--size", choices=sorted(SIZES), default="small",
                            help="small: 14 machines and 90 days of history (the demo); large: 60 machines and a "
                                 "year of machine history (benchmarks).")

    def handle(self, *args: Any, seed: int, size: str, **options: Any) -> None:
        if WorkCenter.objects.filter(code="MILL3").exists():
            self.stdout.write("The demo shop is already seeded: nothing to do (`manage.py flush` empties it).")
            return
        if WorkCenter.objects.exists() or Job.objects.exists():
            raise CommandError("This database already holds a shop; seed_demo only fills an empty one.")
        began = time.monotonic()
        self.stdout.write(f"Seeding the {size} demo shop (seed {seed}):")
        seeder = Seeder(seed=seed, size=SIZES[size], write=self.progress)
        with transaction.atomic():  # all or nothing: a failed run leaves no half-seeded shop behind
            seeder.run()
        self.stdout.write(f"Seeded in {time.monotonic() - began:.0f} s:")
        for line in seeder.summary():
            self.stdout.write(line)
        self.stdout.write("Demo logins:")
        for username, first_name, last_name, _ in DEMO_USERS:
            password = "(existing account, password unchanged)" if username in seeder.kept_users else DEMO_PASSWORD
            self.stdout.write(f"  {username:<10} {password:<12} {first_name} {last_name}")

    def progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # the large size takes minutes: show each stage as it starts
