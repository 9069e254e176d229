"""Import a roster (.csv or .xlsx) from the command line: the same checks, import and invite
step as the roster pages. Importing e-mails no one; ``--invite`` then invites as the roster's
"Invite the people who have not been invited" button does."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Program, User
from accounts.roster import roster_import_apply, roster_import_preview, roster_invite_all, roster_parse


class Command(BaseCommand):
    help = "Check (and with --apply, import) a roster file for a program, as one of its coordinators."

    def add_arguments(self, parser):
        parser.add_argument("program", help="The program's slug, e.g. im.")
        parser.add_argument("csv_file", type=Path)
        parser.add_argument("--as", dest="coordinator", required=True, help="E-mail of a coordinator of the program.")
        parser.add_argument("--apply", action="store_true", help="Import; without it, only report what would change.")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="With --apply: then invite everyone on the roster who has not been invited (importing e-mails no one).",
        )

    def handle(self, *args, program, csv_file, coordinator, apply, invite, **options):
        program_obj = Program.objects.filter(slug=program).first()
        if program_obj is None:
            raise CommandError(f"No program with slug {program!r}.")
        actor = User.objects.by_email(coordinator)
        if actor is None or not actor.has_perm("accounts.manage_roster", program_obj):
            raise CommandError(f"{coordinator} does not coordinate {program_obj}.")
        try:
            data = csv_file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {csv_file}: {exc.strerror}.") from exc
        try:
            # The same checks as the page's preview; nothing is stored for a dry run.
            preview = roster_parse(program=program_obj, data=data, filename=csv_file.name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for error in preview.errors:
            where = (f"line {error.line}" if error.line else csv_file.name) + (
                f", {error.column}" if error.column else ""
            )
            self.stderr.write(f"{where}: {error.message}")
        if not preview.is_valid:
            raise CommandError(f"{len(preview.errors)} problem(s) in {csv_file.name}; nothing was imported.")
        summary = (
            f"{preview.create_count} to add, {preview.update_count} to update, "
            f"{preview.unchanged_count} unchanged, {preview.invitation_count} to invite"
        )
        if not apply:
            self.stdout.write(f"Checked {csv_file.name}: {summary}. Run again with --apply to import.")
            return
        try:
            roster_import = roster_import_preview(
                program=program_obj, uploaded_by=actor, filename=csv_file.name, data=data
            )
            result = roster_import_apply(roster_import=roster_import, actor=actor)
            invited = roster_invite_all(program=program_obj, actor=actor) if invite else None
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if result.in_background:
            self.stdout.write(f"Importing {csv_file.name} in the background: {summary}.")
        elif invited is None:
            self.stdout.write(
                self.style.SUCCESS(f"Imported {csv_file.name}: {summary}; no one e-mailed (add --invite to invite).")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {csv_file.name}: {summary}; {invited.invited} invited, {invited.asked} asked to join."
                )
            )
