"""Program health's "Who needs help" leads, as readiness does, with more residents to match
than open mentor spots: the same numbers, from the same rules (matching/health.py's
``ProgramHealth.spots_gap``, readiness's ``Readiness.capacity``).

The program: Alice and Bob (PGY-1) and Gina (PGY-2), residents a career run would match;
residents it would leave out, each for a reason (a career mentor already, in another program;
no mentee profile; a deactivated account); Hana, who has a research mentor only, and so is
matched too; a mentor with one open spot, and an evaluator whose spots are not open."""

import re
from html import unescape

import pytest

from accounts.models import CareerStage, Membership, MentorProfile
from matching import health
from matching.match_runs.readiness import program_readiness
from matching.models import EvaluatorRole, Kind
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


def _resident(program, first, *, profile=True, stage="PGY-1", **user_fields):
    user = UserFactory(first_name=first, last_name="Resident", **user_fields)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    if profile:
        MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code=stage))
    return user


@pytest.fixture
def world(program, other_program, resident, other_resident, attending, other_attending):
    _resident(program, "Gina", stage="PGY-2")
    mentored = _resident(program, "Mo")
    MentorshipFactory(mentee=mentored, mentor=other_attending, program=other_program, kind=Kind.CAREER)
    hana = _resident(program, "Hana")
    MentorshipFactory(mentee=hana, mentor=other_attending, program=program, kind=Kind.RESEARCH)
    _resident(program, "Nora", profile=False)
    _resident(program, "Dee", is_active=False)
    # Carol (attending): 2 spots, 1 open. Dave (other_attending): 2 mentees, full. Eve evaluates: none open.
    MentorProfile.objects.filter(user=attending).update(capacity=1)
    evaluator = UserFactory(first_name="Eve", last_name="Evaluator")
    MembershipFactory(user=evaluator, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=evaluator, capacity=3)
    EvaluatorRole.objects.create(program=program, user=evaluator, role=EvaluatorRole.Role.PROGRAM_DIRECTOR)
    return program


def _numbers(gap):
    return (gap.residents, gap.spots, gap.unmatched)


def test_the_gap_is_readinesss_numbers(world):
    readiness = program_readiness(world, Kind.CAREER).capacity
    gap = health.program_health(world).spots_gap

    # Alice, Bob, Gina and Hana to match; Carol's one open spot.
    assert _numbers(gap) == _numbers(readiness) == (4, 1, 3)
    assert gap and readiness


def test_the_pgy_filter_does_not_narrow_the_gap(world):
    # Readiness has no PGY filter: neither has the gap, while the residents' figures narrow.
    h = health.program_health(world, pgy="PGY-2")
    assert h.coverage.total.residents == 1
    assert _numbers(h.spots_gap) == _numbers(program_readiness(world, Kind.CAREER).capacity) == (4, 1, 3)


def test_a_resident_who_gets_a_career_mentor_leaves_both_counts(world, resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=world, kind=Kind.CAREER)
    # Alice takes Carol's last spot: 3 residents, no open spot.
    assert (
        _numbers(health.program_health(world).spots_gap)
        == _numbers(program_readiness(world, Kind.CAREER).capacity)
        == (3, 0, 3)
    )


def _attention(body):
    section = re.search(r'<section class="card health-attention".*?</section>', body, re.S).group(0)
    return [
        (" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()), re.findall(r'href="([^"]+)"', item))
        for item in re.findall(r"<li>(.*?)</li>", section, re.S)
    ]


def test_who_needs_help_leads_with_the_gap_and_links_to_where_to_act(world, coordinator, client_for):
    body = client_for(coordinator).get(f"/programs/{world.slug}/health/").content.decode()
    text, links = _attention(body)[0]

    assert text == (
        "4 residents could be matched to a career mentor, but mentors have only 1 open spot: "
        "3 would be left unmatched · See each mentor's spots"
    )
    assert links == [f"/programs/{world.slug}/match-runs/readiness/?kind=career", "#load-mentors"]
    # The readiness page it links to says the same numbers.
    readiness = client_for(coordinator).get(links[0]).content.decode()
    assert "4 residents can be matched" in readiness and "1 open spot: 3 would be left unmatched" in readiness
    # The mentor list the second link opens is on the page.
    assert 'id="load-mentors"' in body


def test_the_gap_says_all_pgy_years_under_a_pgy_filter(world, coordinator, client_for):
    body = client_for(coordinator).get(f"/programs/{world.slug}/health/?pgy=PGY-2").content.decode()
    assert _attention(body)[0][0].startswith("4 residents could be matched to a career mentor, but mentors have only 1")
    assert "(all PGY years)" in _attention(body)[0][0]


def test_no_open_spot_at_all_is_said_plainly(world, resident, attending, coordinator, client_for):
    MentorshipFactory(mentee=resident, mentor=attending, program=world, kind=Kind.CAREER)
    body = client_for(coordinator).get(f"/programs/{world.slug}/health/").content.decode()
    assert _attention(body)[0][0].startswith(
        "3 residents could be matched to a career mentor, but no mentor has an open spot"
    )


def test_no_gap_no_item(world, coordinator, client_for):
    # Carol takes three more: 4 open spots for 4 residents. Readiness warns of nothing either.
    MentorProfile.objects.filter(user__first_name="Carol").update(capacity=4)
    assert not program_readiness(world, Kind.CAREER).capacity
    gap = health.program_health(world).spots_gap
    assert _numbers(gap) == (4, 4, 0) and not gap

    body = client_for(coordinator).get(f"/programs/{world.slug}/health/").content.decode()
    items = [text for text, _ in _attention(body)]
    assert items and not any("could be matched" in text for text in items)
