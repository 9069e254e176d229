"""The mentoring portfolio: figures over a period, the mentor's own only, as a page, a CSV and JSON.

Everyone is in America/New_York (UserFactory). The period is the academic year July 1, 2024 –
June 30, 2025; its edges are New York days, so 03:30 UTC on July 1 (11:30 p.m. on June 30
there) is outside it at the start and inside it at the end.
"""

from datetime import date
from decimal import Decimal

import pytest

from matching.portfolio import current_academic_year, last_academic_year, mentor_portfolio
from tests.factories import MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


START, END = date(2024, 7, 1), date(2025, 6, 30)


def test_the_figures_over_a_period(record, attending, resident, other_resident):
    p = mentor_portfolio(attending, start=START, end=END)

    assert p.rank == "Associate Professor"
    assert [(r.mentee, r.kind, r.started, r.ended) for r in p.mentees] == [
        (resident.full_name, "Career", date(2024, 5, 1), None),
        ("Marcus Moore", "Career", date(2024, 8, 1), date(2025, 5, 1)),
        (other_resident.full_name, "Research", date(2024, 9, 1), date(2025, 3, 15)),
    ]
    # Held inside the period: 30 + 45 (Alice) and 90 + 20 (Bob) = 185 minutes = 3.08 hours.
    assert p.meetings_held == 4 and p.minutes == 185 and p.hours == Decimal("3.08")
    assert [(m.held_on, m.minutes) for m in p.meetings] == [
        (date(2024, 7, 1), 30),
        (date(2024, 10, 10), 90),
        (date(2025, 1, 15), 45),
        (date(2025, 6, 30), 20),
    ]
    by_mentee = {r.mentee: (r.meetings_held, r.hours, r.goals_reached) for r in p.mentees}
    assert by_mentee == {
        resident.full_name: (2, Decimal("1.25"), 1),  # 75 minutes
        other_resident.full_name: (2, Decimal("1.83"), 1),  # 110 minutes
        "Marcus Moore": (0, Decimal("0.00"), 0),
    }
    assert [(g.reached_on, g.title) for g in p.goals] == [
        (date(2025, 2, 2), "Submit the abstract"),
        (date(2025, 3, 1), "-Pass the boards practice test"),
    ]
    assert [(t.mentee, t.finished_on, t.note) for t in p.thanks] == [
        (other_resident.full_name, date(2025, 3, 15), "=Thank you for a wonderful year"),
        ("Marcus Moore", date(2025, 5, 1), "Thanks all the same"),
    ]


def test_a_narrower_period_counts_only_what_fell_in_it(record, attending):
    p = mentor_portfolio(attending, start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert [m.minutes for m in p.meetings] == [45]
    assert [g.title for g in p.goals] == ["Submit the abstract", "-Pass the boards practice test"]
    assert [t.finished_on for t in p.thanks] == [date(2025, 3, 15)]
    assert len(p.mentees) == 3  # all three were mentees at some point in the quarter


def test_the_last_complete_academic_year():
    assert last_academic_year(date(2025, 3, 10)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert last_academic_year(date(2025, 6, 30)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert last_academic_year(date(2025, 7, 1)) == (date(2024, 7, 1), date(2025, 6, 30))
    assert current_academic_year(date(2025, 3, 10)) == (date(2024, 7, 1), date(2025, 3, 10))


def test_a_near_peer_mentor_is_named_by_career_stage(program, db):
    from accounts.models import CareerStage

    fellow = UserFactory()
    MentorProfileFactory(user=fellow, career_stage=CareerStage.objects.get(code="PGY-4"))
    assert mentor_portfolio(fellow, start=START, end=END).rank == CareerStage.objects.get(code="PGY-4").name
