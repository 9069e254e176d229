from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import Membership, User

pytestmark = pytest.mark.django_db

GOOD = "email,first_name,last_name,role,pgy,specialty\nnew.res@hospital.example,Nia,Res,resident,PGY-1,\n"
BAD = "email,first_name,last_name,role,pgy,specialty\nnot-an-email,Nia,Res,resident,PGY-1,\n"


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_roster", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_without_apply_it_only_reports(tmp_path, program, coordinator):
    path = tmp_path / "roster.csv"
    path.write_text(GOOD)
    out, _ = _run("im", str(path), "--as", coordinator.email)
    assert "1 to add" in out and "--apply" in out
    assert not User.objects.filter(email="new.res@hospital.example").exists()


def test_apply_imports_and_emails_no_one(tmp_path, program, coordinator, django_capture_on_commit_callbacks):
    path = tmp_path / "roster.csv"
    path.write_text(GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = _run("im", str(path), "--as", coordinator.email, "--apply")
    assert "Imported roster.csv" in out and "no one e-mailed (add --invite to invite)" in out
    assert Membership.objects.filter(user__email="new.res@hospital.example", program=program, role="resident").exists()
    assert mail.outbox == []


def test_apply_with_invite_imports_and_invites(tmp_path, program, coordinator, django_capture_on_commit_callbacks):
    path = tmp_path / "roster.csv"
    path.write_text(GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = _run("im", str(path), "--as", coordinator.email, "--apply", "--invite")
    assert "1 invited, 0 asked to join" in out
    assert [m.to for m in mail.outbox] == [["new.res@hospital.example"]]


def test_bad_rows_are_listed_and_nothing_is_imported(tmp_path, program, coordinator):
    path = tmp_path / "roster.csv"
    path.write_text(BAD)
    with pytest.raises(CommandError, match="nothing was imported"):
        _run("im", str(path), "--as", coordinator.email, "--apply")
    assert not User.objects.filter(first_name="Nia").exists()


def test_someone_who_does_not_coordinate_the_program_is_refused(tmp_path, program, other_coordinator):
    path = tmp_path / "roster.csv"
    path.write_text(GOOD)
    with pytest.raises(CommandError, match="does not coordinate"):
        _run("im", str(path), "--as", other_coordinator.email, "--apply")
