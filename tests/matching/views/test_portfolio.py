"""The mentoring portfolio: figures over a period, the mentor's own only, as a page, a CSV and JSON.

Everyone is in America/New_York (UserFactory). The period is the academic year July 1, 2024 –
June 30, 2025; its edges are New York days, so 03:30 UTC on July 1 (11:30 p.m. on June 30
there) is outside it at the start and inside it at the end.
"""

import csv
import io
import zoneinfo
from datetime import timedelta

import pytest

from accounts.models import AcademicRank
from tests.factories import MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.portfolio_world import PERIOD, _at, _goal, _held

pytestmark = pytest.mark.django_db


# --- The page.


def test_the_page_shows_the_record_with_the_mentors_name_rank_and_period(client_for, record, attending):
    html = client_for(attending).get("/portfolio/", PERIOD).content.decode()
    assert f"Mentoring portfolio: {attending.full_name}" in html
    assert "Associate Professor" in html and "1 Jul 2024" in html and "30 Jun 2025" in html
    assert "3.08" in html and "1.83" in html and "Submit the abstract" in html
    assert "=Thank you for a wonderful year" in html and "From the year before" not in html
    assert "Dave&#x27;s goal" not in html and "Dave's goal" not in html
    assert "data-print hidden" in html and "Save as PDF" in html
    assert "/static/js/portfolio.js" in html and "<script>" not in html and "style=" not in html


def test_the_page_without_dates_shows_the_last_twelve_months(client_for, attending):
    from django.utils import timezone

    response = client_for(attending).get("/portfolio/")
    start, end = response.context["start"], response.context["end"]
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(attending.time_zone))
    assert (start, end) == (today - timedelta(days=364), today)
    # The period's fields show it, not blank boxes beside a period the page names.
    html = response.content.decode()
    assert f'name="from" value="{start.isoformat()}"' in html and f'name="to" value="{end.isoformat()}"' in html
    assert [label for label, *_ in response.context["periods"]] == [
        "Last 12 months",
        "This academic year so far",
        "Last academic year",
    ]


def test_a_backwards_period_is_pointed_out(client_for, attending):
    response = client_for(attending).get("/portfolio/", {"from": "2025-06-30", "to": "2024-07-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_a_mentor_sees_only_their_own_record(client_for, record, other_attending, attending):
    # Nothing in the request can name another mentor: Dave's page is Dave's.
    response = client_for(other_attending).get("/portfolio/", {**PERIOD, "mentor": attending.pk, "user": attending.pk})
    p = response.context["portfolio"]
    assert [m.minutes for m in p.meetings] == [60] and [g.title for g in p.goals] == ["Dave's goal"]
    assert "Submit the abstract" not in response.content.decode()


def test_someone_without_a_mentor_profile_gets_a_clear_empty_state(client_for, resident, coordinator):
    html = client_for(resident).get("/portfolio/").content.decode()
    assert "The portfolio is for mentors" in html
    assert client_for(resident).get("/portfolio/portfolio.csv").status_code == 404


def test_an_empty_period_says_so(client_for, attending):
    html = client_for(attending).get("/portfolio/", PERIOD).content.decode()
    assert "Nothing recorded in this period" in html


def test_the_dashboard_links_mentors_to_their_portfolio(client_for, attending, resident):
    assert 'href="/portfolio/"' in client_for(attending).get("/dashboard/").content.decode()
    assert 'href="/portfolio/"' not in client_for(resident).get("/dashboard/").content.decode()


@pytest.mark.parametrize("mentees", [1, 6])
def test_page_queries_do_not_grow_with_the_record(
    client_for, program, attending, django_assert_max_num_queries, mentees
):
    for n in range(mentees):
        mentee = UserFactory()
        MenteeProfileFactory(user=mentee)
        m = MentorshipFactory(
            mentee=mentee,
            mentor=attending,
            program=program,
            kind=["career", "research"][n % 2],
            started_at=_at(2024, 9, 1, 14),
        )
        _held(m, _at(2024, 10, 1 + n, 15), 30)
        _goal(m, f"Goal {n}", _at(2024, 11, 1 + n, 15))
    attending.mentor_profile.academic_rank = AcademicRank.objects.get(name="Professor")
    attending.mentor_profile.save()
    c = client_for(attending)
    c.get("/dashboard/")  # LastSeenMiddleware's write happens once, here
    # Budget (13, the same for 1 and 6 mentees):
    #   session, user; session save (savepoint pair and the update)              5
    #   has a mentor profile?; the profile with its rank and specialty            2
    #   mentorships (with mentee, stage, program), meetings, goals, notes         4
    #   base.html: roles and profiles, unread notifications and messages          2
    with django_assert_max_num_queries(13):
        assert c.get("/portfolio/", PERIOD).status_code == 200


# --- The CSV.


def test_the_csv_has_the_same_rows_with_a_bom_iso_dates_and_escaped_cells(
    client_for, record, attending, other_resident
):
    response = client_for(attending).get("/portfolio/portfolio.csv", PERIOD)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="mentoring-portfolio-2024-07-01-to-2025-06-30.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))
    assert rows[0][:3] == ["Record", "Date", "Mentee"]
    kinds = [r[0] for r in rows[1:]]
    assert kinds == ["Mentee"] * 3 + ["Meeting held"] * 4 + ["Goal reached"] * 2 + ["Thank-you note"] * 2 + ["Total"]
    bob = next(r for r in rows if r[0] == "Mentee" and r[2] == other_resident.full_name)
    assert bob[6:11] == ["2024-09-01", "2025-03-15", "2", "1.83", "1"]
    assert ["Meeting held", "2025-06-30", other_resident.full_name] in [r[:3] for r in rows]
    assert "'-Pass the boards practice test" in [r[-1] for r in rows]  # formula characters defused
    assert "'=Thank you for a wonderful year" in [r[-1] for r in rows]
    assert rows[-1][:2] == ["Total", "2024-07-01/2025-06-30"] and rows[-1][8:11] == ["4", "3.08", "2"]


def test_a_period_beyond_what_a_day_can_hold_falls_back_to_the_default(client_for, attending):
    response = client_for(attending).get("/portfolio/", {"to": "9999-12-31"})
    assert response.status_code == 200
    assert "Choose a day between 1900 and 9999." in response.content.decode()
