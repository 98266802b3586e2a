from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from machines.connectivity.services import device_token_create


class Command(BaseCommand):
    help = ("Create an edge device (or give an existing one a new token) that may post the signals of the named "
            "machines and nothing else, and print its token once. The device's earlier token stops working.")

    def add_arguments(self, parser):
        parser.add_argument("name", help="The device's name, for example edge-bay2.")
        parser.add_argument("machines", nargs="+", help="Codes of the machines it reports for.")

    def handle(self, *args, name, machines, **options):
        try:
            key = device_token_create(name=name, machine_codes=machines)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Device {name} reports for {', '.join(machines)}. Its token:\n{key}")
