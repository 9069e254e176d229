"""The audit trail: coverage of the services, the coordinators' page, its CSV export, the API,
and append-only everywhere (model, admin, API).

Times: UserFactory puts everyone in America/New_York, which moved to daylight time (UTC−4)
at 2 a.m. on Sunday March 9, 2025; the date tests below lean on that.
"""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from audit.actions import action_label
from audit.services import audit_log
from matching.services.requests import request_accept, request_create, request_decline
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _api, _entry, _page

pytestmark = pytest.mark.django_db


def _search(client, program, query):
    """The trail after submitting its filter form: a POST, then the page it redirects to (or,
    for invalid filters, the POST's own answer with the errors)."""
    return client.post(_page(program), query, follow=True)


def _filtered_export(client, program, query):
    client.post(_page(program), {"clear": "1"} if not query else query)
    return client.get(_export(program))


def _export(program):
    return reverse("matching:audit-export", args=[program.slug])


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- The page.


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_the_trail_is_the_programs_coordinators_only(request, client_for, program, who):
    c = client_for(request.getfixturevalue(who))
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who in ("other_coordinator", "outsider") else 403
    assert c.get(_page(program)).status_code == refused
    assert c.get(_export(program)).status_code == refused


def test_signed_out_visitors_are_sent_to_log_in(client, program):
    response = client.get(_page(program))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_row_says_when_who_what_on_what_the_change_and_why(client_for, program, coordinator, resident, attending):
    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    request_decline(request=request, actor=attending, note="My spots are taken until July")
    # 14:05 UTC is 10:05 in New York in daylight time.
    _entry(
        program,
        action="match_proposal.overridden",
        actor=coordinator,
        reason="Both want research",
        when=datetime(2025, 6, 2, 14, 5, tzinfo=UTC),
        obj_type="matchproposal",
        obj_id="999",
        before={"decision": "pending", "mentor": attending.pk},
        after={"decision": "overridden", "mentor": resident.pk},
    )

    html = client_for(coordinator).get(_page(program)).content.decode()

    assert "Declined a request" in html and "My spots are taken until July" in html
    assert f'<a href="/requests/{request.pk}/">Request from {resident.full_name} to {attending.full_name}</a>' in html
    assert "pending" in html and "declined" in html
    assert "Overrode a proposed pairing" in html and "2 Jun 2025" in html and "10:05 EDT" in html
    # People in before/after by name; a proposal since deleted is named by its id, without a link.
    assert f'{attending.full_name} <span aria-hidden="true">→</span>' in html
    assert "Proposal #999 (removed)" in html
    assert html.index("Declined a request") < html.index("Overrode a proposed pairing")  # newest first


def test_a_row_leaves_out_what_did_not_change(client_for, program, coordinator):
    # A meeting snapshot: the status and start changed, the sequence did not.
    _entry(
        program,
        action="meeting.confirm",
        actor=coordinator,
        obj_type="meeting",
        obj_id="998",
        before={"status": "proposed", "start": None, "sequence": 4},
        after={"status": "confirmed", "start": "2031-05-02T14:00:00+00:00", "sequence": 4},
    )

    html = client_for(coordinator).get(_page(program)).content.decode()

    assert "proposed" in html and "confirmed" in html
    assert "sequence" not in html.lower()


def test_an_unknown_action_is_shown_readably_not_hidden():
    assert action_label("match_run.publish") == "Published a match run"
    assert action_label("pairing.reassign") == "Pairing: reassign"


def test_search_finds_words_in_labels_reasons_actors_and_the_people_involved(
    client_for, program, coordinator, resident, other_resident, attending
):
    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    request_accept(request=request, actor=attending)  # actor Carol; about Alice's request
    other = MentorshipFactory(
        mentee=other_resident, mentor=UserFactory(first_name="Zed", last_name="Zane"), program=program
    )
    audit_log(actor=coordinator, action="mentorship.end", obj=other, reason="Moved to the Boston campus")

    def found(**query):
        response = _search(client_for(coordinator), program, query)
        return [row.entry.action for row in response.context["rows"]]

    # Alice acted on her own request only; she is involved in the mentorship that started, too.
    assert found(q="Alice") == ["request.accept", "mentorship.start", "request.create"]
    assert found(q="boston campus") == ["mentorship.end"]
    assert found(q="Carol accepted") == ["request.accept"]  # the actor, and the label "Accepted a request"
    assert found(q="Zane") == ["mentorship.end"]  # the mentor of the mentorship it is about
    assert found(q="nobody-has-this") == []
    # Words as people type them, not only as the label says them: "accept" finds "Accepted…",
    # "mentorships" the mentorship's entries.
    assert found(q="Carol accept") == ["request.accept"]
    assert found(q="mentorships boston") == ["mentorship.end"]


def test_search_finds_an_override_by_the_word_override(client_for, program, coordinator, resident):
    audit_log(actor=coordinator, action="match_proposal.overridden", obj=program, program=program, reason="Asked")
    audit_log(actor=coordinator, action="match_proposal.accepted", obj=program, program=program)
    rows = _search(client_for(coordinator), program, {"q": "override"}).context["rows"]
    assert [row.entry.action for row in rows] == ["match_proposal.overridden"]  # "Overrode a proposed pairing"


def test_filters_by_kind_of_action_by_actor_and_by_automatic_changes(
    client_for, program, coordinator, resident, attending
):
    _entry(program, action="request.expire", actor=None)
    _entry(program, action="conflict.add", actor=coordinator)
    _entry(program, action="match_run.publish", actor=coordinator)
    _entry(program, action="match_proposal.accepted", actor=coordinator)
    _entry(program, action="meeting.propose", actor=resident)
    c = client_for(coordinator)

    def actions(**query):
        return sorted(row.entry.action for row in _search(c, program, query).context["rows"])

    assert actions(group="match_runs") == ["match_proposal.accepted", "match_run.publish"]
    assert actions(group="requests") == ["request.expire"]
    assert actions(actor="system") == ["request.expire"]
    assert actions(actor=str(resident.pk)) == ["meeting.propose"]
    assert actions(actor=str(coordinator.pk), group="conflicts") == ["conflict.add"]
    # The actor list names only people who acted in this program.
    choices = dict(c.get(_page(program)).context["form"].fields["actor"].choices)
    assert set(choices) == {"", "system", str(coordinator.pk), str(resident.pk)}


def test_dates_are_whole_days_in_the_viewers_time_zone(client_for, program, coordinator):
    # 03:30 UTC on March 10 is 11:30 p.m. on March 9 in New York; 04:30 UTC is 00:30 on March 10.
    late = _entry(program, reason="late on the 9th", when=datetime(2025, 3, 10, 3, 30, tzinfo=UTC))
    early = _entry(program, reason="early on the 10th", when=datetime(2025, 3, 10, 4, 30, tzinfo=UTC))
    c = client_for(coordinator)

    def ids(**query):
        return [row.entry.pk for row in _search(c, program, query).context["rows"]]

    assert ids(**{"from": "2025-03-09", "to": "2025-03-09"}) == [late.pk]
    assert ids(**{"from": "2025-03-10"}) == [early.pk]
    assert ids(to="2025-03-10") == [early.pk, late.pk]


def test_a_backwards_date_range_is_pointed_out_and_ignored(client_for, program, coordinator):
    _entry(program)
    response = _search(client_for(coordinator), program, {"from": "2025-03-10", "to": "2025-03-01"})
    assert "The end date is before the start date." in response.content.decode()
    assert len(response.context["rows"]) == 1


def test_the_trail_is_paginated_fifty_at_a_time(client_for, program, coordinator):
    for n in range(51):
        _entry(program, reason=f"entry {n}")
    c = client_for(coordinator)
    assert len(c.get(_page(program)).context["rows"]) == 50
    second = c.get(_page(program), {"page": 2})
    assert [row.entry.reason for row in second.context["rows"]] == ["entry 0"]


def test_an_empty_trail_and_an_empty_search_say_so(client_for, program, coordinator):
    c = client_for(coordinator)
    assert "Nothing recorded yet" in c.get(_page(program)).content.decode()
    assert "No entries match these filters" in _search(c, program, {"q": "x"}).content.decode()


def _another_mentor(program):
    mentor = UserFactory(first_name="Mia", last_name="Moss")
    MembershipFactory(user=mentor, program=program, role="faculty")
    MentorProfileFactory(user=mentor)
    return mentor


@pytest.mark.parametrize("entries", [4, 40])
def test_page_queries_do_not_grow_with_entries(
    client_for, program, coordinator, resident, attending, django_assert_max_num_queries, entries
):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    request = request_create(mentee=resident, mentor=_another_mentor(program), kind="research", message="Hi")
    for _ in range(entries // 2):
        _entry(program, action="mentorship.nudge", actor=coordinator, obj_type="mentorship", obj_id=str(mentorship.pk))
        _entry(
            program,
            action="request.accept",
            actor=attending,
            obj_type="mentorshiprequest",
            obj_id=str(request.pk),
            after={"mentor": attending.pk},
        )
    c = client_for(coordinator)
    c.get("/dashboard/")  # LastSeenMiddleware's write happens once, here
    # Budget (17, the same for 4 and 40 entries: objects and names load once per kind):
    #   session, user                                                         2
    #   the program, the coordinator check, the actor filter's people         3
    #   count, the page of entries (with their actors)                        2
    #   the requests, the mentorships (one per kind of object), the names     3
    #   base.html: roles, mentee and mentor profile, unread notifications     4
    #   session save (savepoint pair and the update)                          3
    with django_assert_max_num_queries(17):
        assert c.get(_page(program)).status_code == 200


# --- The CSV export.


def test_the_export_is_utf8_with_a_bom_utc_times_and_escaped_cells(client_for, program, coordinator):
    coordinator.first_name = "Corá"
    coordinator.save(update_fields=["first_name"])
    for reason in ('=HYPERLINK("http://evil.example")', "+1 555 0100", "-2+3", "@SUM(A1)", "plain"):
        _entry(program, actor=coordinator, reason=reason, when=datetime(2025, 3, 10, 3, 30, 15, tzinfo=UTC))

    response = client_for(coordinator).get(_export(program))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{program.slug}-audit-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark, as UTF-8 bytes
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))
    header, body = rows[0], rows[1:]
    assert header[0] == "When (UTC)" and header[-1] == "Reason"
    assert {row[0] for row in body} == {"2025-03-10T03:30:15Z"}
    assert {row[1] for row in body} == {"Corá Cole"}  # accents survive
    assert sorted(row[-1] for row in body) == sorted(
        ['\'=HYPERLINK("http://evil.example")', "'+1 555 0100", "'-2+3", "'@SUM(A1)", "plain"]
    )


def test_the_export_holds_exactly_what_the_filters_select(client_for, program, coordinator, resident):
    _entry(program, action="conflict.add", actor=coordinator, reason="kept apart")
    _entry(program, action="meeting.propose", actor=resident, reason="a meeting")
    _entry(
        program,
        action="request.expire",
        actor=None,
        reason="expired",
        before={"status": "pending"},
        after={"status": "expired"},
    )
    c = client_for(coordinator)

    assert [r[-1] for r in _rows(_filtered_export(c, program, {"group": "conflicts"}))[1:]] == ["kept apart"]
    system = _rows(_filtered_export(c, program, {"actor": "system"}))[1:]
    assert len(system) == 1
    assert system[0][1:4] == ["MentorMatch (automatic)", "", "request.expire"]
    assert system[0][8] == "status: pending → expired"
    assert system[0][9:11] == ['{"status": "pending"}', '{"status": "expired"}']
    assert len(_rows(_filtered_export(c, program, {}))) == 1 + 3


# --- Program scoping, everywhere.


def test_a_coordinator_sees_nothing_of_another_program_anywhere(
    client_for, program, other_program, coordinator, other_coordinator
):
    _entry(program, actor=coordinator, reason="ours")
    _entry(other_program, actor=other_coordinator, reason="THEIRS-SECRET")
    c = client_for(coordinator)

    assert "THEIRS-SECRET" not in c.get(_page(program)).content.decode()
    assert "THEIRS-SECRET" not in b"".join(c.get(_export(program)).streaming_content).decode()
    assert [
        e["reason"] for e in _api(coordinator).get(f"/api/v1/programs/{program.slug}/audit/").json()["results"]
    ] == ["ours"]
    # Their program's trail does not exist, as far as this coordinator can tell.
    assert c.get(_page(other_program)).status_code == 404
    assert c.get(_export(other_program)).status_code == 404
    assert _api(coordinator).get(f"/api/v1/programs/{other_program.slug}/audit/").status_code == 404
    # Even searching for the other program's people finds nothing.
    assert _search(c, program, {"q": other_coordinator.last_name}).context["rows"] == []


def test_a_link_is_given_only_to_objects_of_the_program(
    client_for, program, other_program, coordinator, resident, attending, outsider
):
    elsewhere = MentorshipFactory(mentee=outsider, mentor=attending, program=other_program)
    # An entry filed under this program that names the other program's mentorship (it cannot
    # happen through the services; the page must still not link into another program).
    _entry(program, action="mentorship.start", obj_type="mentorship", obj_id=str(elsewhere.pk))
    html = client_for(coordinator).get(_page(program)).content.decode()
    assert f"mentorship: {attending.full_name} &amp; {outsider.full_name}" in html
    assert f'href="/mentorships/{elsewhere.pk}/"' not in html


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "0001-01-01"}])
def test_dates_beyond_what_a_day_can_hold_are_an_error_not_a_crash(client_for, coordinator, program, query):
    response = client_for(coordinator).post(reverse("matching:audit", args=[program.slug]), query)
    assert response.status_code == 200
    assert "Choose a day between 1900 and 9999." in response.content.decode()
