"""Pairings: a coordinator lists a program's mentorships with filters, pairs a resident
directly, ends a pairing and reassigns a resident, with reasons, audited and told; exports
exactly what the list selects; and sees nothing of another program, on the page, in the
CSV or through the API."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import CareerStage, Membership, MentorProfile
from audit.models import AuditEntry
from matching.models import Meeting, Mentorship
from matching.selectors.pairings import pairings_of
from matching.services.pairings import ENDED_FOR_PAIR, SHARED_REASON_MISSING, pairing_end
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _capacity, _days_ago, _meeting, _mentor

pytestmark = pytest.mark.django_db


Status = Mentorship.Status


Source = Mentorship.Source


def _stage(user, code):
    user.mentee_profile.career_stage = CareerStage.objects.get(code=code)
    user.mentee_profile.save()
    return user


def _resident(program, first, last, code="PGY-1", **fields):
    user = UserFactory(first_name=first, last_name=last, **fields)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code=code))
    return user


# --- The list's filters, on fixed data.


@pytest.fixture
def pairings(program, other_program, resident, other_resident, attending, other_attending, outsider):
    """Residents: Alice Adams PGY-1, Bob Brown PGY-2, Eve Evans PGY-3, Finn Ford PGY-1.
    Mentors: Carol Chen, Dave Diaz (capacity 3 each).

    m1 Alice–Carol  career    request      active, started 10 days ago (too new to be stale)
    m2 Bob–Carol    research  match_run    active, started 100 days ago, held 30 days ago
    m3 Eve–Dave     career    coordinator  active, started 100 days ago, held 70 days ago   -> stale
    m4 Alice–Dave   wellness  request      completed 5 days ago
    m5 Bob–Dave     career    request      ended 20 days ago
    m6 Eve–Carol    wellness  request      active, started 90 days ago; only a cancelled
                                           and a proposed meeting                            -> stale
    m7 Finn–Dave    research  request      active, started 90 days ago, held 70 days ago,
                                           confirmed 5 days ahead (booked: not stale)
    x  Olivia–Gil   career    (other program) active, started 100 days ago              never listed
    """
    _stage(other_resident, "PGY-2")
    _capacity(attending, 3)
    _capacity(other_attending, 3)
    eve = _resident(program, "Eve", "Evans", "PGY-3")
    finn = _resident(program, "Finn", "Ford", "PGY-1")
    carol, dave = attending, other_attending

    def pair(mentee, mentor, kind, source=Source.REQUEST, status=Status.ACTIVE, started=10, ended=None, where=program):
        return MentorshipFactory(
            mentee=mentee,
            mentor=mentor,
            program=where,
            kind=kind,
            source=source,
            status=status,
            started_at=_days_ago(started),
            ended_at=_days_ago(ended) if ended is not None else None,
        )

    m1 = pair(resident, carol, "career")
    m2 = pair(other_resident, carol, "research", Source.MATCH_RUN, started=100)
    _meeting(m2, Meeting.Status.HELD, _days_ago(30))
    m3 = pair(eve, dave, "career", Source.COORDINATOR, started=100)
    _meeting(m3, Meeting.Status.HELD, _days_ago(70))
    m4 = pair(resident, dave, "wellness", status=Status.COMPLETED, started=200, ended=5)
    m5 = pair(other_resident, dave, "career", status=Status.ENDED, started=300, ended=20)
    m6 = pair(eve, carol, "wellness", started=90)
    _meeting(m6, Meeting.Status.CANCELLED, _days_ago(10))
    Meeting.objects.create(mentorship=m6, proposed_by=eve)
    m7 = pair(finn, dave, "research", started=90)
    _meeting(m7, Meeting.Status.HELD, _days_ago(70))
    _meeting(m7, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=5))
    gil = _mentor(other_program, "Gil", "Grant")
    x = pair(outsider, gil, "career", started=100, where=other_program)
    return {
        "m1": m1,
        "m2": m2,
        "m3": m3,
        "m4": m4,
        "m5": m5,
        "m6": m6,
        "m7": m7,
        "x": x,
        "alice": resident,
        "bob": other_resident,
        "eve": eve,
        "finn": finn,
        "carol": carol,
        "dave": dave,
        "gil": gil,
    }


def _url(program, suffix=""):
    return f"/programs/{program.slug}/pairings{suffix}"


def _page_ids(client, program, query):
    response = client.get(_url(program, "/"), query)
    assert response.status_code == 200
    return [row.pk for row in response.context["rows"]]


def _csv_rows(response):
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _api_ids(client, program, query, path="pairings/"):
    response = client.get(f"/api/v1/programs/{program.slug}/{path}", query)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


PAIRING_QUERIES = [
    ({}, ["m1", "m2", "m3", "m6", "m7"]),
    ({"status": "completed"}, ["m4"]),
    ({"status": "ended"}, ["m5"]),
    # By resident (Adams, Brown, Evans, Ford), then kind.
    ({"status": "all"}, ["m1", "m4", "m5", "m2", "m3", "m6", "m7"]),
    ({"kind": "career"}, ["m1", "m3"]),
    ({"kind": "career", "status": "all"}, ["m1", "m5", "m3"]),
    ({"mentor": "dave"}, ["m3", "m7"]),
    ({"mentor": "dave", "status": "all"}, ["m4", "m5", "m3", "m7"]),
    # The search: the mentor's or the resident's name or e-mail, accents and case aside, every word.
    ({"q": "DAVE"}, ["m3", "m7"]),
    ({"q": "dave", "status": "all"}, ["m4", "m5", "m3", "m7"]),
    ({"q": "dave nobody"}, []),
    ({"pgy": "PGY-2", "status": "all"}, ["m5", "m2"]),
    ({"pgy": "PGY-1"}, ["m1", "m7"]),
    ({"source": "coordinator"}, ["m3"]),
    ({"source": "match_run"}, ["m2"]),
    ({"stale": "1"}, ["m3", "m6"]),
    ({"stale": "true", "status": "all"}, ["m3", "m6"]),  # stale pairings are active ones
    ({"stale": "1", "kind": "wellness"}, ["m6"]),
]


@pytest.mark.parametrize("query, expected", PAIRING_QUERIES)
def test_each_filter_selects_the_hand_computed_pairings_on_the_page_in_the_csv_and_the_api(
    client_for, coordinator, program, pairings, query, expected
):
    query = {k: (pairings[v].pk if k == "mentor" else v) for k, v in query.items()}
    want = [pairings[name].pk for name in expected]
    client = client_for(coordinator)

    assert _page_ids(client, program, query) == want
    assert _api_ids(client, program, query) == want
    exported = _csv_rows(client.get(_url(program, ".csv"), query))
    by_pk = {m.pk: m for m in Mentorship.objects.select_related("mentee", "mentor")}
    assert [(r[0], r[3]) for r in exported[1:]] == [
        (by_pk[pk].mentee.full_name, by_pk[pk].mentor.full_name) for pk in want
    ]


UNPAIRED_QUERIES = [
    # Career: Alice has m1, Eve m3; Bob's career pairing ended; Finn never had one.
    ({"unpaired": "career"}, ["bob", "finn"]),
    ({"unpaired": "career", "pgy": "PGY-1"}, ["finn"]),
    ({"unpaired": "career", "pgy": "PGY-3"}, []),
    # Wellness: Alice's completed, Eve's m6 active.
    ({"unpaired": "wellness"}, ["alice", "bob", "finn"]),
    ({"unpaired": "research"}, ["alice", "eve"]),
    ({"unpaired": "near_peer", "pgy": "PGY-2"}, ["bob"]),
]


@pytest.mark.parametrize("query, expected", UNPAIRED_QUERIES)
def test_unpaired_lists_the_programs_residents_without_a_mentor_of_that_kind(
    client_for, coordinator, program, pairings, query, expected
):
    want = [pairings[name].pk for name in expected]
    client = client_for(coordinator)

    assert _page_ids(client, program, query) == want
    api_query = {"kind": query["unpaired"], **({"pgy": query["pgy"]} if "pgy" in query else {})}
    assert _api_ids(client, program, api_query, path="unpaired-residents/") == want
    exported = _csv_rows(client.get(_url(program, ".csv"), query))
    assert exported[0] == ["resident", "resident_email", "pgy", "without_mentor_of_kind"]
    assert [r[1] for r in exported[1:]] == [pairings[name].email for name in expected]


def test_stale_means_the_same_on_the_row_and_in_the_filter(program, pairings):
    flagged = {m.pk for m in pairings_of(program) if m.is_stale}
    assert flagged == {pairings["m3"].pk, pairings["m6"].pk}


def test_a_mentor_of_another_program_is_not_a_choice(client_for, coordinator, program, pairings):
    client = client_for(coordinator)
    page = client.get(_url(program, "/"))
    choices = [value for value, _ in page.context["form"].fields["mentor"].choices if value]
    assert sorted(c.value for c in choices) == sorted([pairings["carol"].pk, pairings["dave"].pk])
    assert "Gil Grant" not in page.content.decode()

    api = client.get(f"/api/v1/programs/{program.slug}/pairings/", {"mentor": pairings["gil"].pk})
    assert api.status_code == 400 and list(api.json()) == ["mentor"]
    # On the page an invalid filter is ignored, and said so beside it.
    ignored = client.get(_url(program, "/"), {"mentor": pairings["gil"].pk})
    assert [m.pk for m in ignored.context["rows"]] == [pairings[k].pk for k in ("m1", "m2", "m3", "m6", "m7")]
    assert ignored.context["form"].errors["mentor"]


def test_the_page_has_no_dropdown_of_mentors_and_a_linked_mentor_is_a_choice_to_remove(
    client_for, coordinator, program, pairings
):
    client = client_for(coordinator)
    html = client.get(_url(program, "/")).content.decode()
    assert 'name="mentor"' not in html and 'name="q"' in html
    dave = pairings["dave"]
    linked = client.get(_url(program, "/"), {"mentor": dave.pk, "kind": "career"}).content.decode()
    chosen = linked.split('class="field chosen-mentor"')[1].split("</div>")[0]
    assert dave.full_name in chosen
    assert f'<input type="hidden" name="mentor" value="{dave.pk}"' in chosen  # kept by the next "Show"
    assert f'href="{_url(program, "/")}?kind=career">Any mentor' in chosen


def test_the_rows_show_pgy_dates_and_the_stale_badge(client_for, coordinator, program, pairings):
    body = client_for(coordinator).get(_url(program, "/"), {"status": "all"}).content.decode()

    assert body.count("No meeting in 60 days</span>") == 2  # the badges of m3 and m6 (the select's option is no span)
    assert 'Alice Adams</a>\n        <span class="muted small">(PGY-1)</span>' in body
    assert "Next: " in body  # m7's booked meeting
    assert "<caption" in body and 'scope="col"' in body


def test_stale_rows_offer_a_nudge_that_comes_back_to_the_list(client_for, coordinator, program, pairings):
    client = client_for(coordinator)
    body = client.get(_url(program, "/"), {"kind": "career"}).content.decode()

    # m1 (career, not stale) has none; m3 (career, stale) has one, coming back to this very list.
    nudges = body.count('class="pairing-nudge"')
    assert nudges == 1
    assert f'action="/programs/{program.slug}/pairings/{pairings["m3"].pk}/nudge/"' in body
    assert f'name="next" value="/programs/{program.slug}/pairings/?kind=career"' in body


# --- CSV.


def test_the_csv_is_utf8_with_a_bom_iso_dates_and_every_page(
    client_for, coordinator, program, attending, other_attending
):
    _capacity(attending, 20)
    _capacity(other_attending, 20)
    started = datetime(2025, 3, 4, 2, 30, tzinfo=UTC)  # 2025-03-03 21:30 in New York
    people = [_resident(program, f"R{n:02d}", "Zed") for n in range(30)]
    for n, person in enumerate(people):
        MentorshipFactory(
            mentee=person, mentor=attending if n % 2 else other_attending, program=program, started_at=started
        )

    response = client_for(coordinator).get(_url(program, ".csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{program.slug}-pairings-')
    rows = _csv_rows(response)
    assert rows[0] == [
        "resident",
        "resident_email",
        "pgy",
        "mentor",
        "mentor_email",
        "kind",
        "source",
        "status",
        "started",
        "last_meeting",
        "next_meeting",
        "ended",
        "no_meeting_in_60_days",
        "breaks_a_conflict",
    ]
    assert len(rows) == 31  # all 30, though the page shows 25
    first = rows[1]
    assert first[:3] == ["R00 Zed", people[0].email, "PGY-1"]
    # The coordinator's zone (America/New_York, as the page shows them), ISO 8601.
    assert first[5:13] == ["career", "request", "active", "2025-03-03", "", "", "", "yes"]


def test_the_csv_escapes_formulas_and_keeps_accents_and_non_latin_names(
    client_for, coordinator, program, attending, other_attending
):
    _capacity(attending, 10)
    zoe = _mentor(program, "Zoë", "Ñúñez")
    for first in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"):
        MentorshipFactory(mentee=_resident(program, first, "Q"), mentor=attending, program=program)
    MentorshipFactory(mentee=_resident(program, "雷", "李"), mentor=zoe, program=program)

    rows = _csv_rows(client_for(coordinator).get(_url(program, ".csv")))

    cells = {(r[0], r[3]) for r in rows[1:]}
    assert cells == {
        ('\'=HYPERLINK("http://x") Q', "Carol Chen"),
        ("'+1 Q", "Carol Chen"),
        ("'-2 Q", "Carol Chen"),
        ("'@SUM(A1) Q", "Carol Chen"),
        ("雷 李", "Zoë Ñúñez"),
    }


# --- Permissions: nobody but the program's coordinators, and nothing of another program.


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_everyone_but_the_programs_coordinators_is_refused_on_page_csv_and_api(
    request, client_for, who, program, pairings
):
    client = client_for(request.getfixturevalue(who))
    m = pairings["m1"]
    api = f"/api/v1/programs/{program.slug}"
    gets = [
        _url(program, "/"),
        _url(program, "/") + "?unpaired=career",
        _url(program, ".csv"),
        f"{api}/pairings/",
        f"{api}/unpaired-residents/?kind=career",
    ]
    bob, dave = pairings["bob"], pairings["dave"]
    # Each would succeed for the program's coordinator: Bob has no career mentor, Dave has a spot.
    assign = f"assign-{bob.pk}"
    posts = [
        (
            _url(program, f"/assign/{bob.pk}/"),
            {f"{assign}-mentor": dave.pk, f"{assign}-kind": "career", f"{assign}-reason": "x"},
        ),
        (_url(program, f"/{m.pk}/end/"), {f"end-{m.pk}-reason": "x"}),
        (_url(program, f"/{m.pk}/reassign/"), {f"reassign-{m.pk}-mentor": dave.pk, f"reassign-{m.pk}-reason": "x"}),
        (f"{api}/pairings/", {"mentee_id": bob.pk, "mentor_id": dave.pk, "kind": "career", "reason": "x"}),
        (f"{api}/pairings/{m.pk}/end/", {"reason": "x"}),
        (f"{api}/pairings/{m.pk}/reassign/", {"mentor_id": dave.pk, "reason": "x"}),
    ]

    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who in ("other_coordinator", "outsider") else 403
    assert [client.get(url).status_code for url in gets] == [refused] * len(gets)
    assert [client.post(url, data).status_code for url, data in posts] == [refused] * len(posts)
    m.refresh_from_db()
    assert m.status == Status.ACTIVE and Mentorship.objects.count() == 8


def test_control_the_programs_coordinator_gets_what_everyone_else_is_refused(
    client_for, coordinator, program, pairings
):
    client = client_for(coordinator)
    api = f"/api/v1/programs/{program.slug}"
    gets = [
        _url(program, "/"),
        _url(program, "/") + "?unpaired=career",
        _url(program, ".csv"),
        f"{api}/pairings/",
        f"{api}/unpaired-residents/?kind=career",
    ]
    bob, dave = pairings["bob"], pairings["dave"]
    assign = f"assign-{bob.pk}"

    assert [client.get(url).status_code for url in gets] == [200] * len(gets)
    response = client.post(
        _url(program, f"/assign/{bob.pk}/"),
        {f"{assign}-mentor": dave.pk, f"{assign}-kind": "career", f"{assign}-reason": "x"},
    )
    assert response.status_code == 302
    assert Mentorship.objects.filter(mentee=bob, mentor=dave, kind="career", status=Status.ACTIVE).exists()


def test_signed_out_people_are_sent_to_log_in_and_the_api_refuses_them(client, program):
    assert client.get(_url(program, "/")).status_code == 302
    assert client.get(_url(program, ".csv")).status_code == 302
    assert client.get(f"/api/v1/programs/{program.slug}/pairings/").status_code in (401, 403)


def test_a_coordinator_sees_nothing_of_another_program(client_for, coordinator, program, other_program, pairings):
    client = client_for(coordinator)
    x = pairings["x"]

    everything = client.get(_url(program, "/"), {"status": "all"}).content.decode()
    exported = client.get(_url(program, ".csv"), {"status": "all"}).content.decode("utf-8-sig")
    api = client.get(f"/api/v1/programs/{program.slug}/pairings/", {"status": "all"}).json()
    unpaired = client.get(f"/api/v1/programs/{program.slug}/unpaired-residents/", {"kind": "research"}).json()
    for text in (everything, exported, str(api), str(unpaired)):
        assert "Olivia" not in text and "Gil Grant" not in text
    assert x.pk not in [row["id"] for row in api["results"]]
    # Their program's pages, and their pairing through this program's address, are 404.
    assert client.get(_url(other_program, "/")).status_code == 404
    assert client.get(f"/api/v1/programs/{other_program.slug}/pairings/").status_code == 404
    assert client.post(_url(program, f"/{x.pk}/end/"), {f"end-{x.pk}-reason": "x"}).status_code == 404
    ended = client.post(
        f"/api/v1/programs/{program.slug}/pairings/{x.pk}/end/", {"reason": "x"}, content_type="application/json"
    )
    assert ended.status_code == 404
    # Nor can someone of another program be paired here through the API.
    refused = client.post(
        f"/api/v1/programs/{program.slug}/pairings/",
        {"mentee_id": pairings["finn"].pk, "mentor_id": pairings["gil"].pk, "kind": "career", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and list(refused.json()) == ["mentor_id"]
    x.refresh_from_db()
    assert x.status == Status.ACTIVE


# --- The page's forms.


def test_the_assign_form_offers_faculty_with_open_spots_and_says_how_many(
    client_for, coordinator, program, resident, attending, other_attending, other_resident
):
    _capacity(other_attending, 1)
    MentorshipFactory(mentee=other_resident, mentor=other_attending, program=program, kind="research")  # Dave: full
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="research")  # Carol: 1 of 2 taken
    zed = _mentor(program, "Zed", "Zane", capacity=1)
    _mentor(program, "Ned", "Nope", capacity=2)
    MentorProfile.objects.filter(user__first_name="Ned").update(accepting_mentees=False)

    client = client_for(coordinator)
    forms = {
        pk: client.get(_url(program, f"/assign/{pk}/"), {"unpaired": "career"}).context["form"]
        for pk in (resident.pk, other_resident.pk)
    }
    # Carol already mentors Alice (research): a pair has one active mentorship at most.
    assert forms[resident.pk].fields["mentor"].choices == [
        ("", "Choose a mentor"),
        (zed.pk, "Zed Zane (1 of 1 spot open)"),
    ]
    assert forms[other_resident.pk].fields["mentor"].choices == [
        ("", "Choose a mentor"),
        (attending.pk, "Carol Chen (1 of 2 spots open)"),
        (zed.pk, "Zed Zane (1 of 1 spot open)"),
    ]
    assert forms[resident.pk]["kind"].value() == "career"  # the kind the list was showing
    wellness = client.get(_url(program, f"/assign/{resident.pk}/"), {"unpaired": "wellness"}).context["form"]
    assert wellness["kind"].value() == "wellness"


def test_the_unpaired_list_links_each_resident_to_their_assign_page(
    client_for, coordinator, program, resident, other_resident, attending
):
    body = client_for(coordinator).get(_url(program, "/"), {"unpaired": "career", "pgy": "PGY-1"}).content.decode()

    assert f'href="/programs/{program.slug}/pairings/assign/{resident.pk}/?unpaired=career&amp;pgy=PGY-1"' in body
    assert 'name="assign-' not in body and "spots open)" not in body  # no mentor dropdown in the rows


def test_assigning_on_the_page_pairs_and_returns_to_the_list_as_it_was(
    client_for, coordinator, program, resident, attending
):
    client = client_for(coordinator)
    prefix = f"assign-{resident.pk}"

    response = client.post(
        _url(program, f"/assign/{resident.pk}/") + "?unpaired=career&pgy=PGY-1",
        {f"{prefix}-mentor": attending.pk, f"{prefix}-kind": "career", f"{prefix}-reason": "Asked for Carol"},
    )

    assert response.status_code == 302
    assert response["Location"] == _url(program, "/") + "?unpaired=career&pgy=PGY-1"
    m = Mentorship.objects.get(mentee=resident)
    assert (m.mentor, m.source) == (attending, Source.COORDINATOR)
    assert AuditEntry.objects.get(action="mentorship.start").reason == "Asked for Carol"


def test_a_refused_assignment_shows_the_reason_beside_the_mentor_and_keeps_the_input(
    client_for, coordinator, program, resident, other_resident, attending
):
    """Carol's last spot went between the page loading and the coordinator pressing Assign."""
    _capacity(attending, 1)
    MentorshipFactory(mentee=other_resident, mentor=attending, program=program, kind="research")
    prefix = f"assign-{resident.pk}"

    response = client_for(coordinator).post(
        _url(program, f"/assign/{resident.pk}/") + "?unpaired=career",
        {f"{prefix}-mentor": attending.pk, f"{prefix}-kind": "career", f"{prefix}-reason": "Asked for Carol"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"mentor": ["Carol Chen has no open spot left (1 of 1 taken)."]}
    body = response.content.decode()
    assert "Asked for Carol</textarea>" in body
    assert f'<option value="{attending.pk}" selected>Carol Chen</option>' in body
    assert 'aria-invalid="true"' in body
    assert f'href="/programs/{program.slug}/pairings/?unpaired=career">Back to the list' in body
    assert not Mentorship.objects.filter(mentee=resident).exists()


def test_ending_on_the_page_needs_a_reason_said_in_the_row(client_for, coordinator, program, resident, attending):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    client = client_for(coordinator)

    refused = client.post(_url(program, f"/{m.pk}/end/"), {f"end-{m.pk}-reason": ""})
    assert refused.status_code == 400
    row = next(r for r in refused.context["rows"] if r.pk == m.pk)
    assert row.end_form.errors == {"reason": [SHARED_REASON_MISSING]}

    done = client.post(_url(program, f"/{m.pk}/end/") + "?kind=career", {f"end-{m.pk}-reason": "Carol retired"})
    assert done.status_code == 302 and done["Location"] == _url(program, "/") + "?kind=career"
    m.refresh_from_db()
    assert (m.status, m.end_reason) == (Status.ENDED, ENDED_FOR_PAIR)


def test_each_rows_end_field_is_the_forms_own_markup_with_its_own_ids(
    client_for, coordinator, program, resident, other_resident, attending
):
    """The reason field is rendered once and given each row's ids: what each row shows is what
    Django renders for that row's form, and a refused one shows its error in its own row only."""
    from matching.forms.pairings import EndForm

    first = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    second = MentorshipFactory(mentee=other_resident, mentor=attending, program=program)
    client = client_for(coordinator)
    body = client.get(_url(program, "/")).content.decode()
    for m in (first, second):
        assert str(EndForm(prefix=f"end-{m.pk}", auto_id="%s")["reason"].as_field_group()) in body
    assert "end-row-" not in body

    refused = client.post(_url(program, f"/{second.pk}/end/"), {f"end-{second.pk}-reason": ""}).content.decode()
    assert f'aria-describedby="end-{second.pk}-reason_error"' in refused
    assert f'aria-describedby="end-{first.pk}-reason_error"' not in refused
    assert str(EndForm(prefix=f"end-{first.pk}", auto_id="%s")["reason"].as_field_group()) in refused


def test_a_pairings_row_links_to_its_reassign_page_instead_of_carrying_the_form(
    client_for, coordinator, program, pairings
):
    """The reassign form's mentor dropdown lists every mentor with a free spot; one copy per row
    made a large program's list slow and heavy, so the row links to the pairing's own page."""
    body = client_for(coordinator).get(_url(program, "/"), {"kind": "career", "page": "1"}).content.decode()

    for name in ("m1", "m3"):
        pk = pairings[name].pk
        assert f'href="/programs/{program.slug}/pairings/{pk}/reassign/?kind=career&amp;page=1"' in body
    assert 'name="reassign-' not in body
    assert "spot open)" not in body and "spots open)" not in body  # Dave has one free: no dropdown offers him
    assert f'name="end-{pairings["m1"].pk}-reason"' in body  # ending stays in the row (one short field)


def test_the_reassign_page_offers_mentors_with_open_spots_but_not_the_residents_own(
    client_for, coordinator, program, resident, attending, other_attending
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    zed = _mentor(program, "Zed", "Zane", capacity=2)
    MentorshipFactory(mentee=resident, mentor=zed, program=program, kind="research")  # a pair has one at most
    _mentor(program, "Ned", "Nope", capacity=2)
    MentorProfile.objects.filter(user__first_name="Ned").update(accepting_mentees=False)

    response = client_for(coordinator).get(_url(program, f"/{m.pk}/reassign/"), {"kind": "career"})

    assert response.status_code == 200
    assert response.context["form"].fields["mentor"].choices == [
        ("", "Choose a mentor"),
        (other_attending.pk, "Dave Diaz (2 of 2 spots open)"),
    ]
    body = response.content.decode()
    assert "<h1>Reassign Alice Adams</h1>" in body
    assert '<form method="post" novalidate>' in body  # posts to this URL, the list's query string included
    assert f'href="/programs/{program.slug}/pairings/?kind=career">Back to the pairings' in body


def test_the_reassign_page_says_when_nobody_has_a_spot(
    client_for, coordinator, program, resident, attending, other_attending
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    _capacity(other_attending, 0)

    response = client_for(coordinator).get(_url(program, f"/{m.pk}/reassign/"))

    assert response.status_code == 200
    assert "No other faculty mentor of" in response.content.decode()
    assert 'name="reassign-' not in response.content.decode()


def test_reassigning_on_the_page_returns_to_the_list_as_it_was_with_the_message(
    client_for, coordinator, program, resident, attending, other_attending
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    prefix = f"reassign-{m.pk}"
    client = client_for(coordinator)

    response = client.post(
        _url(program, f"/{m.pk}/reassign/") + "?kind=career&page=1",
        {f"{prefix}-mentor": other_attending.pk, f"{prefix}-reason": "Closer fit"},
    )

    assert response.status_code == 302
    assert response["Location"] == _url(program, "/") + "?kind=career&page=1"
    assert Mentorship.objects.get(mentee=resident, status=Status.ACTIVE).mentor == other_attending
    listed = client.get(response["Location"])
    assert [str(msg) for msg in listed.context["messages"]] == [
        "Alice Adams's career mentor is now Dave Diaz instead of Carol Chen. All three have been told; "
        "your reason is in the audit trail only."
    ]


def test_a_refused_reassignment_stays_on_its_page_with_the_error_beside_the_mentor(
    client_for, coordinator, program, resident, other_resident, attending, other_attending
):
    """Dave's last spot went between the page loading and the coordinator pressing Reassign."""
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    _capacity(other_attending, 1)
    MentorshipFactory(mentee=other_resident, mentor=other_attending, program=program)  # Dave: 1 of 1 taken
    prefix = f"reassign-{m.pk}"

    response = client_for(coordinator).post(
        _url(program, f"/{m.pk}/reassign/") + "?stale=1",
        {f"{prefix}-mentor": other_attending.pk, f"{prefix}-reason": "Closer fit"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"mentor": ["Dave Diaz has no open spot left (1 of 1 taken)."]}
    body = response.content.decode()
    assert "Closer fit</textarea>" in body
    assert f'<option value="{other_attending.pk}" selected>Dave Diaz</option>' in body
    assert 'aria-invalid="true"' in body and "data-error-summary" in body
    assert f'href="/programs/{program.slug}/pairings/?stale=1">Back to the pairings' in body
    m.refresh_from_db()
    assert m.status == Status.ACTIVE


def test_an_ended_pairing_cannot_be_reassigned_and_its_page_says_so(
    client_for, coordinator, program, resident, attending, other_attending
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    pairing_end(mentorship=m, actor=coordinator, reason="Graduated")
    client = client_for(coordinator)
    prefix = f"reassign-{m.pk}"

    page = client.get(_url(program, f"/{m.pk}/reassign/"))
    assert page.status_code == 200
    assert "This pairing has already ended" in page.content.decode()
    assert 'name="reassign-' not in page.content.decode()

    refused = client.post(
        _url(program, f"/{m.pk}/reassign/"), {f"{prefix}-mentor": other_attending.pk, f"{prefix}-reason": "Late"}
    )
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == [
        "This pairing has already ended: pair the resident with a mentor instead."
    ]
    assert not Mentorship.objects.filter(mentor=other_attending).exists()


def test_ending_a_pairing_that_already_ended_says_so(client_for, coordinator, program, resident, attending):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    pairing_end(mentorship=m, actor=coordinator, reason="First")

    response = client_for(coordinator).post(_url(program, f"/{m.pk}/end/"), {f"end-{m.pk}-reason": "Second"})

    # The row no longer offers the form, so the refusal is a message.
    assert response.status_code == 400
    assert [str(msg) for msg in response.context["messages"]] == ["This pairing has already ended."]


def test_empty_states(client_for, coordinator, program, resident, attending):
    client = client_for(coordinator)
    assert "No pairings yet" in client.get(_url(program, "/")).content.decode()
    MentorshipFactory(mentee=resident, mentor=attending, program=program)
    assert "No pairings match these filters" in client.get(_url(program, "/"), {"kind": "wellness"}).content.decode()
    assert (
        "No pairing has gone 60 days without meeting" in client.get(_url(program, "/"), {"stale": "1"}).content.decode()
    )
    assert (
        "Every PGY-1 resident has a career mentor"
        in client.get(_url(program, "/"), {"unpaired": "career", "pgy": "PGY-1"}).content.decode()
    )


def test_the_program_pages_link_to_the_pairings(client_for, coordinator, program):
    client = client_for(coordinator)
    link = f'href="/programs/{program.slug}/pairings/"'
    assert link in client.get("/programs/").content.decode()
    assert link in client.get(f"/programs/{program.slug}/roster/").content.decode()


# --- Query budgets.


def _grow(program, n, mentors):
    for i in range(n):
        person = _resident(program, f"N{i:02d}", "Grow", "PGY-2")
        m = MentorshipFactory(mentee=person, mentor=mentors[i % len(mentors)], program=program, kind="research")
        _meeting(m, Meeting.Status.HELD, _days_ago(5 + i))
        _meeting(m, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=1 + i))
        _resident(program, f"U{i:02d}", "Grow", "PGY-3")  # one more resident without any mentor


def _count_queries(client, url, query):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, query).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", [{}, {"unpaired": "career"}])
def test_list_queries_do_not_grow_with_rows(client_for, coordinator, program, attending, other_attending, query):
    _capacity(attending, 20)
    _capacity(other_attending, 20)
    client = client_for(coordinator)
    url = _url(program, "/")
    client.get(url)  # the first request of the session also records when the coordinator was last seen
    _grow(program, 3, [attending, other_attending])
    few = _count_queries(client, url, query)
    _grow(program, 12, [attending, other_attending])  # 15 pairings and 30 residents without a career mentor
    many = _count_queries(client, url, query)

    assert few == many
    # Budget (9 whatever the rows; 8 for the unpaired residents, whose form has no conflict count).
    # No mentor choices anywhere: the search finds a mentor by name, and the rows link to the assign
    # and reassign pages.
    #   user (the session comes from the cache, saved once per few minutes)     1
    #   the program, the coordinator check                                       2
    #   count, the page's rows (people, PGY year, meeting dates in one query)   2
    #   pairings breaking a conflict, over the program (count)                  1
    #   the filter form's choices: PGY years                                     1
    #   base.html: roles and profiles, unread notifications and messages         2
    assert many == (8 if query else 9)
