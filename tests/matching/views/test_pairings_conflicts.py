"""Pairings and conflicts of interest (issue 15): the list flags the active pairs a conflict
recorded after they started now forbids, with a filter "Breaks a conflict (n)" and the actions
to end or reassign; the assign and reassign forms do not offer the mentors the service would
refuse (evaluators of the resident's program, do-not-pair entries), and say who is left out."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from matching.models import EvaluatorRole, Mentorship, PairingException
from matching.selectors.pairings import pairings_of
from matching.services.conflicts import conflict_add, evaluator_role_add, exception_grant
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _capacity, _mentor

pytestmark = pytest.mark.django_db

PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


def _url(program, rest="/"):
    return f"/programs/{program.slug}/pairings{rest}"


def _resident(program, first, last):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user)
    return user


@pytest.fixture
def broken(program, coordinator, resident, other_resident, attending, other_attending):
    """Four active pairings; then conflicts recorded after they started:

    Alice–Carol  a do-not-pair entry                     -> breaks a conflict
    Bob–Dave     Dave becomes program director           -> breaks a conflict (an evaluator)
    Finn–Dave    Dave is PD, but Finn has an exception   -> fine
    Gail–Carol   nothing                                 -> fine
    and an ended pairing Bob–Carol under a do-not-pair entry (ended: not flagged)."""
    _capacity(attending, 5)
    _capacity(other_attending, 5)
    finn, gail = _resident(program, "Finn", "Ford"), _resident(program, "Gail", "Gray")
    pairs = {
        "alice_carol": MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career"),
        "bob_dave": MentorshipFactory(mentee=other_resident, mentor=other_attending, program=program, kind="career"),
        "finn_dave": MentorshipFactory(mentee=finn, mentor=other_attending, program=program, kind="career"),
        "gail_carol": MentorshipFactory(mentee=gail, mentor=attending, program=program, kind="career"),
        "bob_carol_ended": MentorshipFactory(
            mentee=other_resident, mentor=attending, program=program, kind="research", status=Mentorship.Status.ENDED
        ),
    }
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Spouse")
    conflict_add(program=program, actor=coordinator, mentee=other_resident, mentor=attending, reason="Former PI")
    evaluator_role_add(program=program, actor=coordinator, user=other_attending, role=PD)
    exception_grant(program=program, actor=coordinator, mentee=finn, mentor=other_attending, reason="Chosen freely")
    return pairs


def test_the_selector_flags_active_pairs_a_later_conflict_forbids(program, broken):
    flags = {m.pk: (m.breaks_conflict, m.breaks_do_not_pair, m.breaks_evaluator_role) for m in pairings_of(program)}

    assert flags == {
        broken["alice_carol"].pk: (True, True, False),
        broken["bob_dave"].pk: (True, False, True),
        broken["finn_dave"].pk: (False, False, False),
        broken["gail_carol"].pk: (False, False, False),
        broken["bob_carol_ended"].pk: (False, False, False),
    }


def test_an_evaluator_role_elsewhere_flags_nothing_here(program, other_program, coordinator, resident, attending):
    """Carol evaluates the surgery residents; Alice is a medicine resident: no conflict."""
    MembershipFactory(user=attending, program=other_program, role=Membership.Role.FACULTY)
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    EvaluatorRole.objects.create(program=other_program, user=attending, role=PD)

    assert pairings_of(program).get(pk=m.pk).breaks_conflict is False


def test_the_list_flags_them_and_says_how_many_with_a_link(client_for, coordinator, program, broken):
    response = client_for(coordinator).get(_url(program))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["breaking"] == 2
    assert '<option value="true">Breaks a conflict (2)</option>' in body
    assert "2 active pairings break a conflict of interest" in body
    assert f'href="{_url(program)}?conflict=true">Show them</a>' in body
    flagged = {m.pk for m in response.context["rows"] if m.breaks_conflict}
    assert flagged == {broken["alice_carol"].pk, broken["bob_dave"].pk}
    assert body.count("Breaks a conflict: do not pair") == 1
    assert body.count("Breaks a conflict: the mentor is an evaluator") == 1
    assert f'<tr id="pairing-{broken["alice_carol"].pk}" class="breaks-conflict">' in body


def test_the_filter_shows_only_those_each_with_end_and_reassign(client_for, coordinator, program, broken):
    response = client_for(coordinator).get(_url(program), {"conflict": "true"})

    rows = response.context["rows"]
    assert [m.pk for m in rows] == [broken["alice_carol"].pk, broken["bob_dave"].pk]  # by resident's name
    body = response.content.decode()
    for m in rows:
        assert f'action="{_url(program, f"/{m.pk}/end/")}?conflict=true"' in body
        assert f'href="{_url(program, f"/{m.pk}/reassign/")}?conflict=true"' in body
    assert "break a conflict of interest</strong>" not in body  # the notice is for the unfiltered list
    # The API takes the same filter.
    api = client_for(coordinator).get(f"/api/v1/programs/{program.slug}/pairings/", {"conflict": "true"}).json()
    assert [(row["id"], row["breaks_conflict"]) for row in api["results"]] == [(m.pk, True) for m in rows]


def test_with_no_pair_breaking_a_conflict_the_filter_says_so(client_for, coordinator, program, resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=program)

    response = client_for(coordinator).get(_url(program), {"conflict": "1"})

    assert response.context["rows"] == []
    assert response.context["empty"]["title"] == "No active pairing breaks a conflict of interest"
    assert '<option value="true" selected>Breaks a conflict (0)</option>' in response.content.decode()


def test_the_csv_names_the_conflict(client_for, coordinator, program, broken):
    text = client_for(coordinator).get(_url(program, ".csv")).content.decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))

    assert header[-2:] == ["no_meeting_in_60_days", "breaks_a_conflict"]
    last = {row[0]: row[-1] for row in rows}
    assert last == {"Alice Adams": "do not pair", "Bob Brown": "evaluator role", "Finn Ford": "", "Gail Gray": ""}


def test_the_conflict_count_costs_one_query_whatever_the_pairings(client_for, coordinator, program, broken):
    client = client_for(coordinator)
    client.get(_url(program))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            client.get(_url(program))
        return len(ctx.captured_queries)

    few = count()
    for n in range(6):
        resident = _resident(program, f"R{n}", "Zed")
        mentor = _mentor(program, f"M{n}", "Zed")
        MentorshipFactory(mentee=resident, mentor=mentor, program=program)
        conflict_add(program=program, actor=coordinator, mentee=resident, mentor=mentor, reason="x")
    assert count() == few


# --- The assign and reassign forms.


def _offered(response) -> set[int]:
    return {value for value, _ in response.context["form"].fields["mentor"].choices if value != ""}


def test_the_assign_form_leaves_out_evaluators_and_do_not_pair_mentors_and_says_so(
    client_for, coordinator, program, resident, attending, other_attending
):
    erin = _mentor(program, "Erin", "Evans")
    fay = _mentor(program, "Fay", "Fox")
    evaluator_role_add(program=program, actor=coordinator, user=other_attending, role=PD)  # Dave
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=erin, reason="Spouse")

    response = client_for(coordinator).get(_url(program, f"/assign/{resident.pk}/"), {"unpaired": "career"})

    assert _offered(response) == {attending.pk, fay.pk}
    assert response.context["left_out"] == [
        ("Dave Diaz", "evaluates this resident's program"),
        ("Erin Evans", "do not pair"),
    ]
    body = response.content.decode()
    assert "Not offered, because of a conflict of interest:" in body
    assert "Dave Diaz (evaluates this resident&#x27;s program), Erin Evans (do not pair)." in body
    assert "Spouse" not in body


def test_an_exception_puts_the_evaluator_back_among_the_choices(
    client_for, coordinator, program, resident, attending, other_attending
):
    evaluator_role_add(program=program, actor=coordinator, user=other_attending, role=PD)
    exception_grant(program=program, actor=coordinator, mentee=resident, mentor=other_attending, reason="Chosen")

    response = client_for(coordinator).get(_url(program, f"/assign/{resident.pk}/"))

    assert _offered(response) == {attending.pk, other_attending.pk}
    assert response.context["left_out"] == []
    assert not PairingException.objects.filter(mentee=resident).exclude(mentor=other_attending).exists()


def test_a_forged_choice_of_an_evaluator_is_refused_beside_the_field(
    client_for, coordinator, program, resident, attending, other_attending
):
    evaluator_role_add(program=program, actor=coordinator, user=other_attending, role=PD)
    prefix = f"assign-{resident.pk}"

    response = client_for(coordinator).post(
        _url(program, f"/assign/{resident.pk}/"),
        {f"{prefix}-mentor": other_attending.pk, f"{prefix}-kind": "career", f"{prefix}-reason": "Fit"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["mentor"] == [
        "Dave Diaz evaluates residents of Alice Adams's program: allow this pair under Conflicts of interest › "
        "Exceptions first, or choose another mentor."
    ]
    assert not Mentorship.objects.filter(mentee=resident).exists()


def test_the_reassign_form_leaves_out_a_mentor_the_resident_is_kept_apart_from(
    client_for, coordinator, program, resident, attending, other_attending
):
    erin = _mentor(program, "Erin", "Evans")
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=other_attending, reason="Spouse")

    response = client_for(coordinator).get(_url(program, f"/{m.pk}/reassign/"))

    assert _offered(response) == {erin.pk}  # not Carol (the current mentor), not Dave (do not pair)
    assert response.context["left_out"] == [("Dave Diaz", "do not pair")]


def test_when_everyone_with_a_spot_is_left_out_the_page_says_why(
    client_for, coordinator, program, resident, attending, other_attending
):
    _capacity(attending, 0)
    evaluator_role_add(program=program, actor=coordinator, user=other_attending, role=PD)

    body = client_for(coordinator).get(_url(program, f"/assign/{resident.pk}/")).content.decode()

    assert "who may mentor Alice Adams has an open spot right now" in body
    assert "Dave Diaz (evaluates this resident&#x27;s program)" in body
    assert 'name="assign-' not in body
