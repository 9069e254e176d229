"""The audit trail: coverage of the services, the coordinators' page, its CSV export, the API,
and append-only everywhere (model, admin, API).

Times: UserFactory puts everyone in America/New_York, which moved to daylight time (UTC−4)
at 2 a.m. on Sunday March 9, 2025; the date tests below lean on that.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import RosterImport
from accounts.roster import roster_import_apply, roster_import_preview, roster_member_reinvite
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest
from matching.services.conflicts import conflict_add, conflict_remove
from matching.services.mentorships import mentorship_end
from matching.services.plan import checkin_submit
from matching.services.requests import request_accept, request_create, request_decline
from tests.factories import MembershipFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _page

pytestmark = pytest.mark.django_db


ROSTER = (
    "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"
    "ana.garcia@hospital.example,Ana,García,resident,PGY-1,,,\n"
    "sam.lee@hospital.example,Sam,Lee,resident,PGY-4,,,\n"
    "sam.lee@hospital.example,Sam,Lee,faculty,PGY-4,Internal Medicine,,\n"
)


# --- Coverage: what the services write.


def test_a_roster_import_is_audited_with_its_counts_in_its_program(
    program, coordinator, django_capture_on_commit_callbacks
):
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="june.csv", data=ROSTER.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_apply(roster_import=roster_import, actor=coordinator)

    entry = AuditEntry.objects.get(action="roster.import")
    # Three rows, two people (Sam twice: resident and faculty), all new, both to invite (the next step).
    assert entry.after == {
        "file": "june.csv",
        "rows": 3,
        "people": 2,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "to_invite": 2,
        "to_ask_to_join": 0,
    }
    assert (entry.program, entry.actor, entry.object_type) == (program, coordinator, "rosterimport")
    assert entry.object_id == str(RosterImport.objects.get().pk)


def test_a_refused_roster_import_leaves_no_entry(program, coordinator, django_capture_on_commit_callbacks):
    bad = ROSTER + "not-an-email,X,Y,resident,PGY-1,,,\n"
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="bad.csv", data=bad.encode()
    )
    with pytest.raises(ValidationError):
        roster_import_apply(roster_import=roster_import, actor=coordinator)
    assert not AuditEntry.objects.filter(action="roster.import").exists()


def test_resending_an_invitation_is_audited_and_an_active_member_is_not(program, coordinator, resident):
    invitee = UserFactory(password="!unusable")
    membership = MembershipFactory(user=invitee, program=program, role="resident")

    assert roster_member_reinvite(membership=membership, actor=coordinator) is True
    active = resident.memberships.get()
    assert roster_member_reinvite(membership=active, actor=coordinator) is False

    entry = AuditEntry.objects.get(action="roster.invite")
    assert (entry.program, entry.actor, entry.after) == (program, coordinator, {"user": invitee.pk})


def test_every_entry_of_a_pairs_life_is_filed_under_their_program(
    program, coordinator, resident, attending, other_attending
):
    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    mentorship = request_accept(request=request, actor=attending)
    declined = request_create(mentee=resident, mentor=other_attending, kind="research", message="Hi")
    request_decline(request=declined, actor=other_attending, note="Full this year")
    checkin_submit(mentorship=mentorship, actor=resident, rating=4)
    mentorship_end(mentorship=mentorship, actor=resident, reason="Moving away", completed=True)
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=other_attending, reason="Her PD")

    actions = list(AuditEntry.objects.order_by("id").values_list("action", "program_id"))
    assert actions == [
        ("request.create", program.pk),
        ("mentorship.start", program.pk),
        ("request.accept", program.pk),
        ("request.create", program.pk),
        ("request.decline", program.pk),
        ("checkin.submit", program.pk),
        ("mentorship.complete", program.pk),
        ("conflict.add", program.pk),
    ]


def test_a_checkin_entry_keeps_nothing_of_what_was_said(client_for, program, coordinator, resident, attending):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    checkin_submit(mentorship=mentorship, actor=resident, rating=2, comment="He never replies to e-mail")

    entry = AuditEntry.objects.get(action="checkin.submit")
    assert (entry.before, entry.after, entry.reason) == ({}, {}, "")
    html = client_for(coordinator).get(_page(program)).content.decode()
    assert "Submitted a check-in" in html and f"Check-in: {attending.full_name} &amp; {resident.full_name}" in html
    assert "never replies" not in html and "2/5" not in html


def test_removing_a_conflict_keeps_both_entries_and_names_the_pair_from_the_record(
    client_for, program, coordinator, resident, attending
):
    entry, _ = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Her PD")
    pk = entry.pk
    conflict_remove(entry=entry, actor=coordinator, reason="No longer her PD")

    html = client_for(coordinator).get(_page(program)).content.decode()
    assert "Removed a conflict of interest" in html and "No longer her PD" in html
    assert f"Conflict of interest #{pk} (removed)" in html
    assert resident.full_name in html and attending.full_name in html  # from before: {"mentee", "mentor"}
    assert Mentorship.objects.count() == 0 and MentorshipRequest.objects.count() == 0
