import sys

from django.core.management.base import BaseCommand

from kiosks.simulator import main


class Command(BaseCommand):
    help = "A simulated kiosk that signs its requests against a running server (see --help)."

    def run_from_argv(self, argv):
        # The simulator has its own argument parser (and its own --help): hand it everything after the name.
        sys.exit(main(argv[2:]))
