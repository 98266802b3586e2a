from django.core.management.base import BaseCommand

from machines.services.states import state_totals_rebuild


class Command(BaseCommand):
    help = ("Recompute each state interval's running totals (seconds in each state before it) from the status "
            "log: after rows were changed outside Spindle's services.")

    def add_arguments(self, parser):
        parser.add_argument("--machine", type=int, action="append", dest="machines", help="Machine id (repeatable).")

    def handle(self, *args, machines=None, **options):
        changed = state_totals_rebuild(machine_ids=machines)
        self.stdout.write(f"{changed} state intervals updated.")
