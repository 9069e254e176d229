"""Issue 11, finding 10: what the exports and e-mails put in front of people.

- ``Tom;=HYPERLINK(…)`` as a name was exported as it is: a spreadsheet that splits cells
  on ``;`` ran the formula. Every export now goes through core/csv.py.
- Plain-text e-mails showed ``D&#x27;Andre`` and ``Obstetrics &amp; Gynecology``: their
  text parts and subjects were HTML-escaped. They are rendered unescaped now
  (core/email.py); the HTML parts keep escaping.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.models import Membership, User
from core.csv import csv_safe
from matching.services.requests import request_create
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

FORMULA_NAME = 'Tom;=HYPERLINK("http://x")'
# What a spreadsheet may split a cell on (its own separator, or "Text to Columns").
SEPARATORS = re.compile(r"[,;|\t\r\n]")


def _runs_as_formula(cell: str) -> bool:
    """Whether the cell, or any piece of it split on a separator, starts a formula."""
    if cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")):
        return True
    return any(piece.lstrip(" \t\r\n").startswith(("=", "+", "-", "@")) for piece in SEPARATORS.split(cell)[1:])


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs, as before
    return raw.decode("utf-8-sig")


def _assert_neutralised(body: str):
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows for cell in row]
    assert [cell for cell in cells if _runs_as_formula(cell)] == []
    # The name is still there to read, and every text cell is quoted (the header included).
    assert any('HYPERLINK("http://x")' in cell and cell.startswith("Tom;") for cell in cells)
    header = body.splitlines()[0]
    assert header.startswith('"') and header.endswith('"')


def test_a_formula_after_a_separator_in_a_name_is_neutralised_in_the_roster_export(client_for, coordinator, program):
    MembershipFactory(
        user=UserFactory(first_name=FORMULA_NAME, last_name="Q"), program=program, role=Membership.Role.RESIDENT
    )

    response = client_for(coordinator).get(reverse("accounts:roster-export", args=[program.slug]))

    assert response.status_code == 200
    _assert_neutralised(_body(response))


def test_a_formula_after_a_separator_in_a_name_is_neutralised_in_the_pairings_export(
    client_for, coordinator, program, attending
):
    mentee = UserFactory(first_name=FORMULA_NAME, last_name="Q")
    MembershipFactory(user=mentee, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=mentee)
    MentorshipFactory(mentee=mentee, mentor=attending, program=program)

    response = client_for(coordinator).get(reverse("matching:pairings-export", args=[program.slug]))

    assert response.status_code == 200
    _assert_neutralised(_body(response))


def test_every_csv_export_goes_through_the_one_helper():
    """An export that builds its own writer escapes however it likes; only core/csv.py may."""
    root = Path(__file__).resolve().parents[3]
    own_writers = [
        str(path.relative_to(root))
        for folder in ("accounts", "matching", "config", "core")
        for path in (root / folder).rglob("*.py")
        if path != root / "core" / "csv.py"
        and re.search(r"csv\.(writer|DictWriter)\(|[\"']text/csv", path.read_text(encoding="utf-8"))
    ]

    assert own_writers == []


@pytest.mark.parametrize("separator", [",", ";", "\t", "|", "\n", "; ", ",\t "])
@pytest.mark.parametrize("formula", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_each_separator_before_each_formula_character_is_neutralised(separator, formula):
    cell = csv_safe(f"Tom{separator}{formula}")

    assert not _runs_as_formula(cell)
    assert cell == f"Tom{separator}'{formula}"


def test_numbers_stay_numbers_and_plain_text_is_untouched():
    assert [csv_safe(v) for v in (3, -2, 1.5, None, "Ana-María", "a=b", "x@y.example")] == [
        3,
        -2,
        1.5,
        "",
        "Ana-María",
        "a=b",
        "x@y.example",
    ]


@given(st.text())
def test_no_text_comes_out_as_a_formula_and_escaping_twice_changes_nothing(text):
    safe = csv_safe(text)

    assert not _runs_as_formula(safe)
    assert csv_safe(safe) == safe
    # Only apostrophes are added: remove them and the text is back (when it had none).
    if "'" not in text:
        assert safe.replace("'", "") == text


# --- Plain-text e-mails.


@pytest.fixture
def obgyn(program):
    program.name = "Obstetrics & Gynecology"
    program.save()
    return program


def test_an_invitation_to_dandre_in_obstetrics_and_gynecology_reads_as_typed(
    obgyn, coordinator, django_capture_on_commit_callbacks
):
    dandre = User.objects.create_user("dandre@hospital.example", first_name="D'Andre", last_name="Lee")
    MembershipFactory(user=dandre, program=obgyn, role=Membership.Role.RESIDENT)

    with django_capture_on_commit_callbacks(execute=True):
        assert account_services.user_invite(user=dandre, invited_by=coordinator)

    [message] = mail.outbox
    assert "Hello D'Andre," in message.body
    assert "for Obstetrics & Gynecology," in message.body
    assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert message.subject == "You're invited to MentorMatch — Obstetrics & Gynecology"
    # The HTML part still escapes.
    html = message.alternatives[0][0]
    assert "D&#x27;Andre" in html and "Obstetrics &amp; Gynecology" in html


def test_a_notification_to_dandre_reads_as_typed(obgyn, resident, attending, django_capture_on_commit_callbacks):
    attending.first_name = "D'Andre"
    attending.save()
    resident.first_name, resident.last_name = "Zoë", "O'Neil"
    resident.save()

    with django_capture_on_commit_callbacks(execute=True):
        request_create(
            mentee=resident, mentor=attending, kind="career", message="I'd like to go into Obstetrics & Gynecology."
        )

    [message] = mail.outbox
    assert message.to == [attending.email]
    assert "Hello D'Andre," in message.body
    assert "Zoë O'Neil asked you" in message.body
    assert "I'd like to go into Obstetrics & Gynecology." in message.body
    assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert message.subject.startswith("Zoë O'Neil asked you")
    assert "Zoë O&#x27;Neil" in message.alternatives[0][0]


def test_a_password_reset_for_dandre_reads_as_typed(client):
    UserFactory(email="dandre@hospital.example", first_name="D'Andre", last_name="Lee")

    client.post(reverse("accounts:password_reset"), {"email": "dandre@hospital.example"})

    [message] = mail.outbox
    assert "Hello D'Andre," in message.body
    assert "&#x27;" not in message.body
    assert "D&#x27;Andre" in message.alternatives[0][0]


def test_a_line_break_in_a_title_cannot_add_a_header(resident, attending, django_capture_on_commit_callbacks):
    from matching.notifications import notify

    with django_capture_on_commit_callbacks(execute=True):
        notify(event="test", user=attending, title="Hi\r\nBcc: everyone@example.org", dedup_key="crlf")

    [message] = mail.outbox
    assert message.subject == "Hi Bcc: everyone@example.org · MentorMatch"
    assert message.bcc == []
