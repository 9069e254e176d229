"""Issue 15's "graduating a class" journey: at the end of the academic year a coordinator
filters the roster to the PGY-3 residents, marks them as graduated and confirms. Their
mentorships and requests in the program end; the mentor reads a neutral sentence; whoever
also belongs to another program stays there and can still sign in; the others cannot; the
audit trail has the entry. At a desktop and a phone size."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import CareerStage, Membership, User
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest
from matching.services.requests import request_accept, request_create
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pgy3(program, first_name, last_name):
    user = UserFactory(
        email=f"{first_name.lower()}.{last_name.lower()}@hospital.example", first_name=first_name, last_name=last_name
    )
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code="PGY-3"))
    return user


def _log_out(page):
    page.context.clear_cookies()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_graduating_a_class(
    page, shot, program, other_program, coordinator, resident, attending, other_attending, size
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    # The class of PGY-3s: Grace has a mentor, Hank waits for an answer, Ivy also belongs to
    # General Surgery. Alice (PGY-1) stays.
    grace = _pgy3(program, "Grace", "Hopper")
    hank = _pgy3(program, "Hank", "Lee")
    ivy = _pgy3(program, "Ivy", "Moss")
    MembershipFactory(user=ivy, program=other_program, role=Membership.Role.RESIDENT)
    mentorship = request_accept(
        request=request_create(mentee=grace, mentor=attending, kind="career", message="Hello"),
        actor=attending,
        note="Glad to",
    )
    pending = request_create(mentee=hank, mentor=other_attending, kind="career", message="Could you mentor me?")
    alice_mentorship = request_accept(
        request=request_create(mentee=resident, mentor=attending, kind="research", message="Hi"),
        actor=attending,
        note="Yes",
    )
    mail.outbox.clear()

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/roster/")
    page.get_by_label("Role:", exact=True).select_option(label="Resident")
    page.get_by_label("PGY:", exact=True).select_option("PGY-3")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_text("3 matching entries")).to_be_visible()
    roster = page.get_by_role("table", name=f"{program.name} roster")
    for person in (grace, hank, ivy):
        expect(roster).to_contain_text(person.last_name)
    expect(roster).not_to_contain_text(resident.last_name)

    page.get_by_text("The 3 people shown are leaving…").click()
    page.get_by_label("Graduated").check()
    # Not confirmed yet: the button alone changes nothing.
    page.get_by_role("button", name="Mark 3 as leaving").click()
    expect(page.get_by_text("Tick the box to confirm that these people are leaving.")).to_be_visible()
    assert Membership.objects.filter(program=program, role="resident").count() == 4

    page.get_by_text("The 3 people shown are leaving…").click()
    page.get_by_label("Graduated").check()
    page.get_by_label("Yes, these 3 people are leaving").check()
    shot("leaving-confirmed")
    page.get_by_role("button", name="Mark 3 as leaving").click()

    expect(
        page.get_by_text(
            f"3 people graduated and left {program.name}; their open requests and mentorships in it have ended. "
            "2 people who belong to no other program can no longer sign in."
        )
    ).to_be_visible()
    expect(page.get_by_text("No one matches these filters")).to_be_visible()
    shot("class-graduated")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]

    # The roster without filters: Alice stays, the class is gone.
    page.get_by_role("button", name="Show everyone").click()
    roster = page.get_by_role("table", name=f"{program.name} roster")
    expect(roster).to_contain_text(resident.last_name)
    for person in (grace, hank, ivy):
        expect(roster).not_to_contain_text(person.last_name)

    # Ended in this program only; the pending request closed; Alice's mentorship untouched.
    mentorship.refresh_from_db()
    pending.refresh_from_db()
    alice_mentorship.refresh_from_db()
    assert mentorship.status == Mentorship.Status.ENDED
    assert pending.status == MentorshipRequest.Status.CLOSED
    assert alice_mentorship.status == Mentorship.Status.ACTIVE
    assert {u.email: u.is_active for u in User.objects.filter(pk__in=[grace.pk, hank.pk, ivy.pk])} == {
        grace.email: False,
        hank.email: False,
        ivy.email: True,
    }
    assert list(Membership.objects.filter(user=ivy).values_list("program__slug", "role")) == [("gs", "resident")]

    # The audit trail has one entry for the whole class.
    page.goto(f"/programs/{program.slug}/audit/")
    page.get_by_label("Kind of action:", exact=True).select_option(label="Roster")
    page.get_by_role("button", name="Search").click()
    trail = page.get_by_role("table")
    expect(trail).to_contain_text(coordinator.full_name)
    expect(trail.get_by_role("row").filter(has_text="Marked people as leaving the program")).to_have_count(1)
    shot("audit-trail")
    entry = AuditEntry.objects.get(action="roster.leave")
    assert entry.after == {"reason": "graduated", "memberships": 3, "people": 3, "deactivated": 2}

    # The mentor sees it ended, with a neutral sentence.
    _log_out(page)
    log_in(page, attending.email, PASSWORD)
    page.goto(mentorship.get_absolute_url())
    ended = page.get_by_role("region", name="Ended")
    expect(ended).to_contain_text("Grace Hopper graduated and left the program.")
    shot("mentor-sees-it-ended")
    # Told once, by e-mail too; Hank's request closed quietly (his mentor was never going to wait).
    assert [m.to for m in mail.outbox].count([attending.email]) == 1
    assert pending.response_note == "Hank Lee graduated and left the program."

    # Grace can no longer sign in; Ivy still can, in General Surgery.
    _log_out(page)
    log_in(page, grace.email, PASSWORD)
    expect(page.get_by_text("That e-mail and password don't match an account.")).to_be_visible()
    shot("graduate-cannot-sign-in")
    log_in(page, ivy.email, PASSWORD)
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)
