import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config.celery import app
from demo.scheduler import DemoScheduler, check_demo_only, start


class Command(BaseCommand):
    help = (
        "Serve the embedded demo: runserver, plus the periodic jobs of config/celery.py's beat schedule on a "
        "thread (a ranking window's match starts when its deadline passes). Demo only; Ctrl-C stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true", help="Do not restart on code changes.")

    def handle(self, *args, addrport, noreload, **options):
        try:
            check_demo_only()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        # With the autoreloader, runserver re-runs this command in a child process (RUN_MAIN)
        # that serves; the watching parent must not run the jobs a second time.
        if noreload or os.environ.get("RUN_MAIN") == "true":
            start(DemoScheduler(app.conf.beat_schedule))
            self.stdout.write("Periodic jobs run in this process (the match-run sweeper every 30 s).")
        call_command("runserver", addrport, use_reloader=not noreload)
