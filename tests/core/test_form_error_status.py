"""One rule for every page form (core.forms.form_status): a POST whose form is refused shows the
page again, with the errors beside the fields and everything typed kept, and answers 400; a GET,
and a confirmation step, answer 200. The first group of pages answered 200 until this rule;
the second is a sample of those that already answered 400.

Each test types something recognisable (``TYPED``) into a field the form keeps, makes another
field refuse, and looks for what was typed in the page that comes back."""

import json
import re
from datetime import date

import pytest
from django import forms
from django.urls import reverse

from accounts.models import AvailabilityWindow, BusyBlock, InstitutionRole, Membership, User
from accounts.services import invitation_url
from core.forms import form_status
from matching.models import MentorshipRequest, Message
from matching.services.meetings import meeting_propose
from matching.services.messages import BODY_MAX, message_post
from tests.factories import UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask, _create, _in

pytestmark = pytest.mark.django_db

TYPED = "Typed by hand 7341"


def _refused(response, *typed: str) -> str:
    """The page as it came back: 400, a whole page (or htmx fragment) with each typed value in it."""
    assert response.status_code == 400, response.status_code
    body = response.content.decode()
    for value in typed:
        assert value in body, f"{value[:40]!r} was lost"
    return body


@pytest.fixture
def mentorship(program, resident, attending):
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


@pytest.fixture
def meeting(mentorship, resident):
    return meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])


# --- Pages that answered 200 to a refused form.


def test_a_message_too_long_in_a_mentorship_thread(client_for, mentorship, resident):
    too_long = TYPED + "x" * BODY_MAX
    response = client_for(resident).post(
        reverse("matching:mentorship-messages", args=[mentorship.pk]), {"body": too_long}
    )
    _refused(response, too_long)
    assert not Message.objects.exists()


def test_a_message_too_long_in_a_request_thread(client_for, resident, attending):
    request_ = _ask(resident, attending)
    too_long = TYPED + "x" * BODY_MAX
    response = client_for(resident).post(reverse("matching:request-messages", args=[request_.pk]), {"body": too_long})
    _refused(response, too_long)


def test_a_correction_too_long(client_for, mentorship, resident):
    message = message_post(thread=mentorship, author=resident, body="First words")
    too_long = TYPED + "x" * BODY_MAX
    response = client_for(resident).post(reverse("matching:message-edit", args=[message.pk]), {"body": too_long})
    _refused(response, too_long)
    message.refresh_from_db()
    assert message.body == "First words"


def test_a_request_with_an_unknown_kind(client_for, resident, attending):
    url = reverse("matching:request-create", args=[attending.pk])
    response = client_for(resident).post(url, {"kind": "year-9999", "message": TYPED})
    _refused(response, TYPED)
    assert not MentorshipRequest.objects.exists()


def test_an_answer_with_a_note_too_long(client_for, resident, attending):
    request_ = _ask(resident, attending)
    too_long = TYPED + "x" * 5000
    response = client_for(attending).post(
        reverse("matching:request-accept", args=[request_.pk]), {"respond-note": too_long}
    )
    _refused(response, too_long)
    request_.refresh_from_db()
    assert request_.status == "pending"


def test_a_meeting_proposed_in_the_past(client_for, mentorship, resident):
    response = client_for(resident).post(
        reverse("matching:meeting-propose", args=[mentorship.pk]),
        {"custom_1": "2020-01-01T10:00", "duration_minutes": "30", "format": "in-person", "location": TYPED},
    )
    body = _refused(response, TYPED, 'value="2020-01-01T10:00"')
    assert "has already passed" in body


def test_a_meeting_rescheduled_to_the_past(client_for, meeting, attending):
    response = client_for(attending).post(
        reverse("matching:meeting-reschedule", args=[meeting.pk]), {"custom_1": "2020-01-01T10:00"}
    )
    _refused(response, 'value="2020-01-01T10:00"')


def test_a_meeting_confirmed_at_a_time_not_offered(client_for, meeting, attending):
    response = client_for(attending).post(
        reverse("matching:meeting-confirm", args=[meeting.pk]), {"start": "9999-12-31T10:00:00+00:00"}
    )
    body = _refused(response)
    assert "Select a valid choice" in body
    meeting.refresh_from_db()
    assert meeting.status == "proposed"


def test_a_cancellation_with_a_reason_too_long(client_for, meeting, resident):
    too_long = TYPED + "x" * 2000
    response = client_for(resident).post(reverse("matching:meeting-cancel", args=[meeting.pk]), {"reason": too_long})
    _refused(response, too_long)
    meeting.refresh_from_db()
    assert meeting.status == "proposed"


def test_an_ending_with_an_unknown_outcome(client_for, mentorship, resident):
    response = client_for(resident).post(
        reverse("matching:mentorship-end", args=[mentorship.pk]), {"outcome": "year-9999", "reason": TYPED}
    )
    _refused(response, TYPED)
    mentorship.refresh_from_db()
    assert mentorship.is_active


def test_account_details_with_an_unknown_time_zone(client_for, resident):
    response = client_for(resident).post(
        reverse("accounts:account-edit"), {"first_name": TYPED, "last_name": "Adams", "time_zone": "Mars/Olympus"}
    )
    _refused(response, TYPED)
    resident.refresh_from_db()
    assert resident.first_name == "Alice"


def test_a_mentee_profile_without_a_career_stage(client_for, resident):
    response = client_for(resident).post(reverse("accounts:mentee-profile-edit"), {"bio": TYPED})
    _refused(response, TYPED)


def test_weekly_availability_with_an_impossible_time(client_for, resident):
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-weekday": "1",
        "form-0-start": "18:00",
        "form-0-end": "99:99",
    }
    response = client_for(resident).post(reverse("accounts:availability-edit"), data)
    _refused(response, 'value="99:99"')
    assert not AvailabilityWindow.objects.filter(user=resident).exists()


def test_a_busy_block_edited_without_its_first_day(client_for, resident):
    block = BusyBlock.objects.create(
        user=resident, label="ICU", start_date=date(2030, 1, 1), end_date=date(2030, 1, 31)
    )
    response = client_for(resident).post(
        reverse("accounts:busy-block-edit", args=[block.pk]),
        {"label": TYPED, "start_date": "", "end_date": "2030-02-01"},
    )
    _refused(response, TYPED)
    block.refresh_from_db()
    assert block.label == "ICU"


def test_an_api_token_with_a_name_too_long(client_for, resident):
    too_long = TYPED + "x" * 500
    response = client_for(resident).post(reverse("accounts:api-tokens"), {"name": too_long, "once": "a1"})
    _refused(response, too_long)
    assert not resident.api_tokens.exists()
    assert "no-store" in response["Cache-Control"]


def test_an_override_without_a_mentor_in_place_with_htmx(
    client_for, program, coordinator, resident, other_resident, attending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the run itself is a task, run on commit
        run = _create(coordinator, program, [resident, other_resident], [attending])
    run.refresh_from_db()
    proposal = run.proposals.first()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    data = {f"o{proposal.pk}-mentor": "", f"o{proposal.pk}-note": TYPED}
    c = client_for(coordinator)
    fragment = _refused(c.post(url, data, HTTP_HX_REQUEST="true"), TYPED)
    assert "<html" not in fragment  # the form alone, swapped where it was (templates/base.html's htmx-config)
    page = _refused(c.post(url, data), TYPED)
    assert "<html" in page


def test_a_password_reset_for_something_not_an_address(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "year-9999-not-an-address"})
    _refused(response, 'value="year-9999-not-an-address"')


def test_an_invitation_with_two_different_passwords(client, settings):
    user = User.objects.create_user("invitee@hospital.example", first_name="Ivy", last_name="Vee")
    page = client.get(invitation_url(user).removeprefix(settings.SITE_URL), follow=True)
    response = client.post(
        page.redirect_chain[-1][0], {"new_password1": "maple-river-stone-9", "new_password2": "maple-river-stone-8"}
    )
    # A password is never shown again, by design: the error is what comes back.
    assert "didn’t match" in _refused(response)
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_password_change_with_the_wrong_old_password(client_for, resident):
    response = client_for(resident).post(
        reverse("accounts:password_change"),
        {"old_password": "not-it", "new_password1": "maple-river-stone-9", "new_password2": "maple-river-stone-9"},
    )
    assert "incorrectly" in _refused(response)
    resident.refresh_from_db()
    assert not resident.check_password("maple-river-stone-9")


def test_an_unknown_e_mail_preference(client_for, resident):
    response = client_for(resident).post(reverse("matching:notification-preferences"), {"delivery": "carrier-pigeon"})
    assert "carrier-pigeon" in _refused(response)


def test_htmx_swaps_a_400_and_no_other_error(client_for, resident):
    """What makes the override form's errors appear in place: htmx 2 swaps no 4xx unless told."""
    page = client_for(resident).get(reverse("accounts:api-tokens")).content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    rules = config["responseHandling"]

    def rule_for(status: int) -> dict:
        # As htmx reads them: the first rule whose pattern matches the status.
        return next(rule for rule in rules if re.search(rule["code"], str(status)))

    assert rule_for(400)["swap"] is True and not rule_for(400).get("error")
    assert rule_for(200)["swap"] is True and rule_for(204)["swap"] is False
    for status in (403, 404, 409, 500):
        assert rule_for(status) == {"code": "[45]..", "swap": False, "error": True}


# --- A sample of pages that already answered 400: the same rule.


def test_a_busy_block_without_dates(client_for, resident):
    response = client_for(resident).post(reverse("accounts:busy-blocks"), {"label": TYPED, "start_date": "9999-99-99"})
    _refused(response, TYPED)
    assert not BusyBlock.objects.exists()


def test_a_conflict_without_its_reason(client_for, program, coordinator, resident, attending):
    response = client_for(coordinator).post(
        reverse("matching:conflicts-add", args=[program.slug, "conflict"]),
        {"coi-mentee": resident.pk, "coi-mentor": attending.pk, "coi-reason": ""},
    )
    _refused(response, f'<option value="{resident.pk}" selected>')


def test_an_assignment_without_a_mentor(client_for, program, coordinator, resident, attending):
    response = client_for(coordinator).post(
        reverse("matching:pairing-assign", args=[program.slug, resident.pk]),
        {f"assign-{resident.pk}-kind": "career", f"assign-{resident.pk}-reason": TYPED},
    )
    _refused(response, TYPED)


def test_a_coordinator_without_an_email_address(client_for, program):
    admin = UserFactory()
    InstitutionRole.objects.create(institution=program.institution, user=admin)
    response = client_for(admin).post(
        reverse("accounts:program-coordinators", args=[program.slug]), {"email": "", "first_name": TYPED}
    )
    _refused(response, TYPED)
    assert not program.memberships.filter(role=Membership.Role.COORDINATOR).exists()


# --- The rule itself.


class _Name(forms.Form):
    name = forms.CharField()


def test_form_status_is_400_only_for_a_refused_bound_form():
    assert form_status() == 200
    assert form_status(None, _Name()) == 200  # a GET: nothing was submitted
    assert form_status(_Name({"name": "Ann"})) == 200
    assert form_status(_Name({"name": "Ann"}), _Name({"name": ""})) == 400
    formset = forms.formset_factory(_Name)({"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-name": ""})
    assert form_status(formset) == 200  # an untouched extra form is not a refusal
    refused = forms.formset_factory(_Name, min_num=1, validate_min=True)(
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-name": ""}
    )
    assert form_status(refused) == 400


def test_a_form_refused_by_the_service_is_a_400_too():
    form = _Name({"name": "Ann"})
    assert form.is_valid()
    form.add_error("name", "Taken.")
    assert form_status(form) == 400
