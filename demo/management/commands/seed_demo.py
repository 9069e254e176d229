from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.lifecycle import seed_lifecycle
from demo.people import DEMO_PASSWORD, INSTITUTION, DemoDataError, logins_table, seed_demo


class Command(BaseCommand):
    help = (
        f"Create the demo: two residency programs at {INSTITUTION} with residents, attendings and "
        "coordinators, and their mentorships at every step. Only what is missing is created, so running it "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DJANGO_DEBUG=false. Every demo account shares a published password.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DJANGO_DEBUG is false, so this looks like a real deployment, and every demo account "
                "shares a published password. Pass --force if you really want the demo here."
            )
        try:
            result = seed_demo()
            # The people first: the mentorship stories are played between them.
            lifecycle = seed_lifecycle()
        except DemoDataError as error:
            raise CommandError(str(error)) from error

        created = result.created + lifecycle.created  # Counter addition keeps only what was made
        if created:
            made = ", ".join(f"{n} {label}" for label, n in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo created: {made}."))
        else:
            self.stdout.write("The demo is already in place; nothing changed.")
        self.stdout.write(lifecycle.summary)
        for skipped in lifecycle.skipped:
            self.stdout.write(self.style.WARNING(f"Left out the story of {skipped}."))
        self.stdout.write("")
        self.stdout.write(logins_table())
        self.stdout.write("")
        self.stdout.write(f"Password for every demo account: {self.style.SUCCESS(DEMO_PASSWORD)}")
