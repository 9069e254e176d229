"""Program health's page: the figures, the anonymity threshold, and a coordinator of one program seeing nothing of another.

The fixed world, every person and date of it, is described in tests/matching/health_world.py."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from matching.models import EvaluatorRole, Meeting, MentorshipRequest
from tests.matching.health_world import _checkin, _meeting, _mentor, _pair, _request, _resident, at
from tests.matching.support import _api as api

pytestmark = pytest.mark.django_db


# --- The page.


def _page(client, program, query=""):
    return client.get(f"/programs/{program.slug}/health/{query}")


def test_the_page_answers_who_needs_help(world, program, coordinator, client_for, frozen):
    response = _page(client_for(coordinator), program)
    assert response.status_code == 200
    body = response.content.decode()

    assert "Who needs help" in body
    assert "2 residents have no mentor at all" in body
    assert '<a href="/programs/im/pairings/?unpaired=career&amp;pgy=PGY-1">1 PGY-1 has no career mentor</a>' in body
    assert "1 PGY-2 has no career mentor" in body and "1 PGY-3 has no career mentor" in body
    assert '<a href="/programs/im/pairings/?stale=true">2 pairings have had no meeting in 60 days</a>' in body
    assert "2 residents asked for a new mentor and are still waiting" in body
    assert "1 mentor has more mentees than their capacity" in body
    # The people, named: the unpaired, the quiet pairings, the re-match requests.
    for name in ("Eve Evans", "Ivy Ingram", "Bob Brown", "Finn Fox", "Dave Diaz"):
        assert name in body
    # Headline figures: right now, then in the year.
    assert '<dt>Residents with a mentor</dt><dd>5 <span class="stat-of">of 7</span></dd>' in body
    assert "<dt>Median time to answer</dt><dd>42 hours</dd>" in body
    assert "<dt>Meetings per pairing per month</dt><dd>0.30</dd>" in body
    assert '<dt>Average check-in rating</dt><dd>3.6 <span class="stat-of">/ 5</span></dd>' in body
    assert "Fewer than 3 responses: hidden to protect anonymity." in body
    # Comments for the coordinator, without their ratings; the charts' data for the script.
    assert "We never meet" in body and 'id="health-charts"' in body
    assert 'src="/static/vendor/chart.umd.min.js" defer' in body and 'src="/static/js/health.js" defer' in body
    assert "<script>" not in body and 'style="' not in body


def test_the_page_counts_no_open_spot_of_an_evaluator_and_says_why(world, program, coordinator, client_for, frozen):
    ned = User.objects.get(last_name="Nash")
    EvaluatorRole.objects.create(program=program, user=ned, role=EvaluatorRole.Role.CCC_MEMBER)
    body = _page(client_for(coordinator), program).content.decode()

    assert (
        '<dt>Open spots</dt><dd>0 <span class="stat-of kept-apart-of">+ 3 kept apart (<a href="#load-kept-apart">why</a>)'
        in body
    )
    assert "1 mentor is kept apart from every resident of this program" in body
    assert "3 free spots they have are not counted as open" in body
    assert "Evaluates this program&#x27;s residents" in body
    # Pia is not accepting: so named, not "Full"; each cell labelled for the phone layout.
    assert '<td data-label="Load"><span class="badge">Not accepting</span></td>' in body
    assert 'data-label="Accepting">No</td>' in body


def test_the_page_filters_by_year_and_pgy(world, program, coordinator, client_for, frozen):
    body = _page(client_for(coordinator), program, "?academic_year=2025&pgy=PGY-1").content.decode()
    assert "In 2025–26" in body and "PGY-1 residents only." in body
    assert '<option value="2025" selected>2025–26</option>' in body
    assert "We never meet" not in body  # a 2026–27 comment

    # An unknown year or PGY year falls back to the defaults rather than failing.
    response = _page(client_for(coordinator), program, "?academic_year=1999&pgy=nonsense")
    assert response.status_code == 200 and "In 2026–27 so far" in response.content.decode()


def test_the_page_and_api_show_nothing_of_another_program(
    world, program, other_program, coordinator, other_coordinator, client_for, frozen
):
    body = _page(client_for(coordinator), program).content.decode()
    for secret in ("Olivia", "Zed", "Zimmer", "B-secret-comment", other_program.name):
        assert secret not in body
    data = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/").content.decode()
    comments = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/").content.decode()
    for secret in ("Olivia", "Zed", "Zimmer", "B-secret-comment"):
        assert secret not in data and secret not in comments

    # Program B's coordinator: A's page and API do not exist for them, and vice versa.
    assert _page(client_for(other_coordinator), program).status_code == 404
    assert api(other_coordinator).get(f"/api/v1/programs/{program.slug}/health/").status_code == 404
    assert api(other_coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/").status_code == 404
    assert _page(client_for(coordinator), other_program).status_code == 404
    # Their own page shows only B.
    own = _page(client_for(other_coordinator), other_program).content.decode()
    assert "B-secret-comment" in own and "We never meet" not in own


@pytest.mark.parametrize("who", ["resident", "other_resident", "attending", "outsider"])
def test_residents_and_mentors_never_see_the_page_or_the_comments(world, program, who, request, client_for, frozen):
    user = request.getfixturevalue(who)
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who == "outsider" else 403
    assert _page(client_for(user), program).status_code == refused
    assert api(user).get(f"/api/v1/programs/{program.slug}/health/").status_code == refused
    assert api(user).get(f"/api/v1/programs/{program.slug}/health/comments/").status_code == refused


def test_the_other_party_never_sees_a_check_in_comment(world, client_for):
    # Carol mentors Bob, who wrote "We never meet": her mentorship page does not show it.
    body = client_for(world.carol).get(f"/mentorships/{world.m2.pk}/").content.decode()
    assert "We never meet" not in body


def test_signed_out_visitors_are_sent_to_log_in(program, client):
    response = client.get(f"/programs/{program.slug}/health/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get(f"/api/v1/programs/{program.slug}/health/").status_code in (401, 403)


def test_links_to_the_page(program, coordinator, resident, client_for):
    client = client_for(coordinator)
    url = f"/programs/{program.slug}/health/"
    assert url in client.get("/programs/").content.decode()
    assert url in client.get(f"/programs/{program.slug}/roster/").content.decode()
    assert url in client.get("/dashboard/").content.decode()  # the program's card


def test_page_queries_do_not_grow_with_the_program(
    program, coordinator, client_for, frozen, django_assert_max_num_queries, world
):
    # Grow the program: 10 more residents, each with a mentor, a meeting, a request and a commented check-in.
    for i in range(10):
        r = _resident(program, f"Extra{i}", "Resident", "PGY-2")
        m = _mentor(program, f"Extra{i}", "Mentor", 2)
        pairing = _pair(r, m, program, "career", at(7, 5))
        _meeting(pairing, Meeting.Status.HELD, at(8, 5, 16))
        _request(r, m, program, MentorshipRequest.Status.ACCEPTED, at(7, 3), at(7, 4))
        _checkin(pairing, r, 4, at(9, 3), f"comment {i}")
    client = client_for(coordinator)
    # Budget (26, the same for 8 residents or 18: nothing is loaded per row):
    #   session, user, last_seen update, session save (+ savepoint pair)            6
    #   the session list's last seen (written with last_seen)                       1
    #   the program, the coordinator check                                           2
    #   filter choices: years with data, PGY years                                   2
    #   figures: active pairings, residents, mentor load, funnel counts, answer
    #            times, meetings by month, pairings in the year, re-match, check-ins  9
    #   comments: count, page                                                         2
    #   base.html: roles, mentee/mentor profile, unread notifications                 4
    with django_assert_max_num_queries(26):
        assert _page(client, program).status_code == 200


def test_closed_requests_say_why_they_closed(world, program, coordinator, client_for, frozen):
    # Hank's pending request closed because he got a mentor another way: the app closed it.
    MentorshipRequest.objects.filter(mentee__first_name="Hank", status="pending").update(
        status=MentorshipRequest.Status.CLOSED, resolved_at=at(10, 12)
    )
    body = _page(client_for(coordinator), program).content.decode()
    assert '<th scope="row">Closed: no longer possible</th><td>1</td>' in body
    assert "mentor stopped accepting" not in body  # not the only reason a request closes
    assert 'id="closed-requests"' in body and "The resident got a mentor of that kind another way" in body


def test_no_closed_requests_no_explanation(world, program, coordinator, client_for, frozen):
    assert 'id="closed-requests"' not in _page(client_for(coordinator), program).content.decode()
