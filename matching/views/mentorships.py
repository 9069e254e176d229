"""Pages for mentorships: my mentorships, the page the pair shares (agreement, action
plan, resources, introductions, check-ins, ending, thanks) and introductions received.

Who may do what is asked of ``matching/rules.py``; every change goes through a service.
A mentorship the viewer may not see is a 404, so its existence stays private. On the
shared page nobody sees a check-in's answers: its author sees only that they checked in.

Nothing typed is lost: create forms are handled once however often they are sent
(``core.idempotency.create_once``), and a save of a shared text (the agreement, a goal, a
resource) started from an older version is shown beside the other person's, never saved
over it (``core.concurrency``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.access import object_for
from core.bounds import format_day
from core.concurrency import EditConflict
from core.forms import add_service_errors, form_status
from core.idempotency import create_once

from .. import recommendations
from ..forms.mentorships import (
    ActionItemEditForm,
    ActionItemForm,
    AgreementForm,
    CheckInForm,
    DeleteForm,
    EndForm,
    IntroductionForm,
    IntroductionResponseForm,
    ResourceEditForm,
    ResourceForm,
    ThanksForm,
)
from ..models import ActionItem, Agreement, Introduction, Kind, Mentorship, Resource
from ..selectors import mentorships as mentorship_selectors
from ..selectors.meetings import meetings_of
from ..selectors.nudges import next_nudge_at
from ..services.mentorships import mentorship_end, mentorship_leave_thank_you
from ..services.plan import (
    action_item_create,
    action_item_delete,
    action_item_update,
    agreement_update,
    checkin_month_start,
    checkin_submit,
    introduction_create,
    introduction_respond,
    resource_delete,
    resource_share,
    resource_update,
)
from ._edit_conflicts import save_or_conflict, status_after

# The offer to put a goal's status back, shown once on the next page (like a message).
UNDO_SESSION_KEY = "matching:goal-undo"

# --- Helpers.


def _mentorship_for(request, pk, perm="matching.view_mentorship") -> Mentorship:
    """The mentorship if the user holds ``perm`` on it. Its pair and their coordinators may
    know it exists (403 for what they may not do); anyone else gets 404."""
    return object_for(
        request.user, mentorship_selectors.mentorships_with_details(), pk, perm, visible_with="matching.view_mentorship"
    )


def _delete_against_version(request, title, *, delete, edit_url, done, back):
    """Remove a goal or a resource against the version its page showed: if it changed since,
    the person is sent to look at it first, and it is not removed unseen."""
    form = DeleteForm(request.POST)
    try:
        delete(form.cleaned_data["version"] if form.is_valid() else None)
    except EditConflict:
        messages.error(
            request, f"“{title}” changed since you opened it: check it, then remove it if you still want to."
        )
        return redirect(edit_url)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(back)


def _undo_offer(request, mentorship):
    offer = request.session.pop(UNDO_SESSION_KEY, None)
    if not offer or offer.get("mentorship") != mentorship.pk:
        return None
    return offer


def _detail_context(request, mentorship, **forms_in_play):
    user = request.user
    is_mentee = user.pk == mentorship.mentee_id
    is_mentor = user.pk == mentorship.mentor_id
    active = mentorship.is_active
    can_work = active and user.has_perm("matching.work_in_mentorship", mentorship)
    can_share = can_work and user.has_perm("matching.share_resource", mentorship)
    can_introduce = can_work and user.has_perm("matching.introduce", mentorship)
    can_check_in = active and user.has_perm("matching.check_in", mentorship)
    can_thank = not active and user.has_perm("matching.leave_thank_you", mentorship)
    can_nudge = active and user.has_perm("matching.nudge_pairing", mentorship)

    # The mentee sees why this mentor fits them (the engine's breakdown, no one's ranking).
    breakdown = (
        recommendations.breakdown_for(
            getattr(user, "mentee_profile", None), getattr(mentorship.mentor, "mentor_profile", None)
        )
        if is_mentee
        else None
    )

    # Only the viewer's own check-ins, and only their dates: the other party's are never read here.
    last_checkin = mentorship_selectors.own_checkins(mentorship, user).first() if (is_mentee or is_mentor) else None
    now = timezone.now()
    checked_in_this_month = bool(last_checkin and last_checkin.created_at >= checkin_month_start(user, now))
    # The form waits for the first check-in to be due, as the dashboard's reminder does.
    checkin_is_open = can_check_in and mentorship_selectors.checkin_open(
        mentorship, user, last_checkin.created_at if last_checkin else None, now=now
    )
    first_checkin = mentorship_selectors.first_checkin_at(mentorship)
    agreement = getattr(mentorship, "agreement", None)
    context = {
        "breakdown": breakdown,
        "mentorship": mentorship,
        "agreement": agreement,
        "agreement_is_agreed": mentorship_selectors.agreement_is_agreed(agreement),
        "is_mentee": is_mentee,
        "is_mentor": is_mentor,
        "is_party": is_mentee or is_mentor,
        "other": mentorship.other_party(user) if (is_mentee or is_mentor) else None,
        "can_work": can_work,
        "can_share": can_share,
        "can_introduce": can_introduce,
        "can_check_in": checkin_is_open,
        # A young mentorship's first check-in date, said instead of the form.
        "checkin_opens_at": first_checkin if active and (is_mentee or is_mentor) and now < first_checkin else None,
        "can_thank": can_thank,
        # Coordinators may nudge an active pair to meet, once a week (``services.nudges``).
        "can_nudge": can_nudge,
        "next_nudge_at": next_nudge_at(mentorship) if can_nudge else None,
        # The re-match flag is for the coordinator, and the mentee who raised it; not the mentor.
        "show_rematch": mentorship.rematch_requested and not is_mentor,
        "action_items": mentorship_selectors.action_plan_of(mentorship),
        "action_statuses": ActionItem.Status.choices,
        "resources": mentorship_selectors.resources_of(mentorship),
        "introductions": mentorship_selectors.introductions_made_in(mentorship) if (is_mentor or is_mentee) else [],
        "last_checkin": last_checkin,
        "checked_in_this_month": checked_in_this_month,
        "meetings": meetings_of(mentorship),
        "today": timezone.localdate(),
        "undo": _undo_offer(request, mentorship) if can_work else None,
    }
    if can_work:
        context["action_item_form"] = forms_in_play.get("action_item_form") or ActionItemForm(
            mentorship=mentorship, viewer=user, initial={"owner": user.pk}
        )
    if can_share:
        context["resource_form"] = forms_in_play.get("resource_form") or ResourceForm()
    if can_introduce:
        context["introduction_form"] = forms_in_play.get("introduction_form") or IntroductionForm(mentorship=mentorship)
    if context["can_check_in"] or "checkin_form" in forms_in_play:
        context["can_check_in"] = True
        context["checkin_form"] = forms_in_play.get("checkin_form") or CheckInForm()
    if can_thank:
        context["thanks_form"] = forms_in_play.get("thanks_form") or ThanksForm(
            initial={"note": mentorship.thank_you_note}
        )
    return context


def _render_detail(request, mentorship, *, status=200, **forms_in_play):
    return render(
        request,
        "matching/mentorships/detail.html",
        _detail_context(request, mentorship, **forms_in_play),
        status=status,
    )


# --- Pages.


@login_required
def mentorship_list(request):
    mentorships = list(mentorship_selectors.mentorships_for_page(request.user))
    return render(
        request,
        "matching/mentorships/list.html",
        {
            "active": [m for m in mentorships if m.is_active],
            "past": [m for m in mentorships if not m.is_active],
            "agreed": {
                m.pk for m in mentorships if mentorship_selectors.agreement_is_agreed(getattr(m, "agreement", None))
            },
        },
    )


@login_required
def mentorship_detail(request, pk):
    return _render_detail(request, _mentorship_for(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def mentorship_agreement(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.work_in_mentorship")
    if not mentorship.is_active:
        messages.info(request, "This mentorship has ended; its agreement is kept as it was.")
        return redirect(mentorship)
    agreement = getattr(mentorship, "agreement", None) or Agreement(mentorship=mentorship)
    form = AgreementForm(request.POST or None, instance=agreement, initial={"version": agreement.version})
    conflict = None
    if request.method == "POST" and form.is_valid():
        saved, conflict = save_or_conflict(
            form,
            lambda: agreement_update(mentorship=mentorship, actor=request.user, **form.cleaned_data),
            lambda theirs: [
                (form.fields["cadence"].label, theirs.get_cadence_display()),
                (form.fields["preferred_channel"].label, theirs.preferred_channel),
                (form.fields["expectations"].label, theirs.expectations),
                (form.fields["first_goals"].label, theirs.first_goals),
            ],
        )
        if saved:
            messages.success(request, "The agreement is saved.")
            return redirect(mentorship)
    return render(
        request,
        "matching/mentorships/agreement_form.html",
        {"mentorship": mentorship, "form": form, "conflict": conflict},
        status=status_after(form, conflict),
    )


@login_required
@require_http_methods(["GET", "POST"])
def mentorship_end_view(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.work_in_mentorship")
    if not mentorship.can_end():
        messages.info(request, f"This mentorship is already {mentorship.get_status_display().lower()}.")
        return redirect(mentorship)
    is_mentee = request.user.pk == mentorship.mentee_id
    form = EndForm(request.POST or None)
    if not is_mentee:
        del form.fields["rematch"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mentorship_end(
                mentorship=mentorship,
                actor=request.user,
                reason=data["reason"],
                completed=data["outcome"] == "completed",
                rematch=data.get("rematch", False),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"The mentorship is {'completed' if data['outcome'] == 'completed' else 'ended'}."
            )
            return redirect(mentorship)
    return render(
        request,
        "matching/mentorships/end_form.html",
        {"mentorship": mentorship, "form": form, "other": mentorship.other_party(request.user)},
        status=form_status(form),
    )


@login_required
@require_POST
def mentorship_thanks(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.leave_thank_you")
    form = ThanksForm(request.POST)
    if form.is_valid():
        try:
            mentorship_leave_thank_you(mentorship=mentorship, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your thank-you note is saved; your mentor has been told.")
            return redirect(mentorship)
    return _render_detail(request, mentorship, status=400, thanks_form=form)


@login_required
@require_POST
def action_item_create_view(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.work_in_mentorship")
    form = ActionItemForm(request.POST, mentorship=mentorship, viewer=request.user)
    plan_url = f"{mentorship.get_absolute_url()}#plan"
    if form.is_valid():

        def create():
            action_item_create(mentorship=mentorship, actor=request.user, **form.cleaned_data)
            return plan_url, "The goal is added to your action plan."

        done = create_once(
            request,
            form,
            scope=f"goal:{mentorship.pk}",
            create=create,
            fallback_url=plan_url,
            repeat_message="You sent this goal twice: it was added once.",
        )
        if done:
            return done
    return _render_detail(request, mentorship, status=400, action_item_form=form)


@login_required
@require_POST
def action_item_update_view(request, pk):
    item = _goal_for(request, pk)
    mentorship = item.mentorship
    status = request.POST.get("status", "")
    undo = request.POST.get("undo") == "1"
    previous = item.status
    # The status buttons send no version (a click, not a text); "Undo" does, so it puts
    # back only the status it offered to, never a change the other person made since.
    version = request.POST.get("version") or None
    try:
        item = action_item_update(item=item, actor=request.user, status=status, version=version, undo=undo)
    except EditConflict as exc:
        who = getattr(exc.editor, "full_name", None) or "Someone else"
        messages.error(request, f"{who} changed “{item.title}” since, so it was left as they set it.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        label = item.get_status_display().lower()
        if undo:
            messages.success(request, f"Undone: “{item.title}” is {label} again.")
        elif previous != item.status:
            request.session[UNDO_SESSION_KEY] = {
                "mentorship": mentorship.pk,
                "item": item.pk,
                "title": item.title,
                "now": label,
                "status": previous,
                "version": item.version,
            }
    return redirect(f"{mentorship.get_absolute_url()}#plan")


def _goal_for(request, pk, perm="matching.work_in_mentorship") -> ActionItem:
    return object_for(
        request.user,
        ActionItem.objects.select_related("mentorship__mentee", "mentorship__mentor", "owner", "created_by"),
        pk,
        perm,
        visible_with="matching.view_mentorship",
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_item_edit_view(request, pk):
    item = _goal_for(request, pk)
    mentorship = item.mentorship
    if not mentorship.is_active:
        messages.info(request, "This mentorship has ended; its action plan is kept as it was.")
        return redirect(mentorship)
    initial = {"title": item.title, "due_date": item.due_date, "owner": item.owner_id, "version": item.version}
    form = ActionItemEditForm(request.POST or None, mentorship=mentorship, viewer=request.user, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, conflict = save_or_conflict(
            form,
            lambda: action_item_update(
                item=item,
                actor=request.user,
                version=data["version"],
                title=data["title"],
                due_date=data["due_date"],
                owner=data["owner"],
            ),
            lambda theirs: [
                ("Goal", theirs.title),
                ("Due date", format_day(theirs.due_date) if theirs.due_date else "—"),
                ("Owner", theirs.owner.full_name),
                ("Status", theirs.get_status_display()),
            ],
        )
        if saved:
            messages.success(request, "The goal is saved.")
            return redirect(f"{mentorship.get_absolute_url()}#plan")
    return render(
        request,
        "matching/mentorships/goal_form.html",
        {
            "mentorship": mentorship,
            "item": item,
            "form": form,
            "conflict": conflict,
            "can_delete": request.user.has_perm("matching.delete_action_item", item),
            "delete_form": DeleteForm(initial={"version": item.version}),
        },
        status=status_after(form, conflict),
    )


@login_required
@require_POST
def action_item_delete_view(request, pk):
    item = _goal_for(request, pk, "matching.delete_action_item")
    return _delete_against_version(
        request,
        item.title,
        delete=lambda version: action_item_delete(item=item, actor=request.user, version=version),
        edit_url=reverse("matching:action-item-edit", args=[item.pk]),
        done=f"“{item.title}” is removed from the action plan.",
        back=f"{item.mentorship.get_absolute_url()}#plan",
    )


@login_required
@require_POST
def resource_create_view(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.share_resource")
    form = ResourceForm(request.POST)
    url = f"{mentorship.get_absolute_url()}#resources"
    if form.is_valid():

        def create():
            resource_share(mentorship=mentorship, actor=request.user, **form.cleaned_data)
            return url, "The resource is shared."

        done = create_once(
            request,
            form,
            scope=f"resource:{mentorship.pk}",
            create=create,
            fallback_url=url,
            repeat_message="You sent this link twice: it was shared once.",
        )
        if done:
            return done
    return _render_detail(request, mentorship, status=400, resource_form=form)


def _resource_for(request, pk) -> Resource:
    return object_for(
        request.user,
        Resource.objects.select_related("mentorship__mentee", "mentorship__mentor", "shared_by"),
        pk,
        "matching.change_resource",
        visible_with="matching.view_mentorship",
    )


@login_required
@require_http_methods(["GET", "POST"])
def resource_edit_view(request, pk):
    resource = _resource_for(request, pk)
    mentorship = resource.mentorship
    if not mentorship.is_active:
        messages.info(request, "This mentorship has ended; its resources are kept as they were.")
        return redirect(mentorship)
    initial = {"title": resource.title, "url": resource.url, "note": resource.note, "version": resource.version}
    form = ResourceEditForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, conflict = save_or_conflict(
            form,
            lambda: resource_update(
                resource=resource,
                actor=request.user,
                version=data["version"],
                title=data["title"],
                url=data["url"],
                note=data["note"],
            ),
            lambda theirs: [("Title", theirs.title), ("Link", theirs.url), ("Note", theirs.note)],
        )
        if saved:
            messages.success(request, "The resource is saved.")
            return redirect(f"{mentorship.get_absolute_url()}#resources")
    return render(
        request,
        "matching/mentorships/resource_form.html",
        {
            "mentorship": mentorship,
            "resource": resource,
            "form": form,
            "conflict": conflict,
            "delete_form": DeleteForm(initial={"version": resource.version}),
        },
        status=status_after(form, conflict),
    )


@login_required
@require_POST
def resource_delete_view(request, pk):
    resource = _resource_for(request, pk)
    return _delete_against_version(
        request,
        resource.title,
        delete=lambda version: resource_delete(resource=resource, actor=request.user, version=version),
        edit_url=reverse("matching:resource-edit", args=[resource.pk]),
        done=f"“{resource.title}” is removed.",
        back=f"{resource.mentorship.get_absolute_url()}#resources",
    )


@login_required
@require_POST
def introduction_create_view(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.introduce")
    form = IntroductionForm(request.POST, mentorship=mentorship)
    url = f"{mentorship.get_absolute_url()}#introductions"
    if form.is_valid():

        def create():
            introduction = introduction_create(mentorship=mentorship, actor=request.user, **form.cleaned_data)
            return url, f"Your introduction is on its way to {introduction.colleague.full_name}."

        done = create_once(
            request,
            form,
            scope=f"introduction:{mentorship.pk}",
            create=create,
            fallback_url=url,
            repeat_message="You sent this introduction twice: it went out once.",
        )
        if done:
            return done
    return _render_detail(request, mentorship, status=400, introduction_form=form)


@login_required
@require_POST
def checkin_create_view(request, pk):
    mentorship = _mentorship_for(request, pk, "matching.check_in")
    form = CheckInForm(request.POST)
    url = f"{mentorship.get_absolute_url()}#checkin"
    if form.is_valid():

        def create():
            checkin_submit(mentorship=mentorship, actor=request.user, **form.cleaned_data)
            return url, "Thank you for checking in. Only your program's coordinators see your answers."

        done = create_once(
            request,
            form,
            scope=f"checkin:{mentorship.pk}",
            create=create,
            fallback_url=url,
            repeat_message="You sent your check-in twice: it counts once.",
        )
        if done:
            return done
    return _render_detail(request, mentorship, status=400, checkin_form=form)


@login_required
def introduction_list(request):
    introductions = list(mentorship_selectors.introductions_received_by(request.user))
    return render(
        request,
        "matching/mentorships/introductions.html",
        {
            "pending": [i for i in introductions if i.status == Introduction.Status.PENDING and i.mentorship.is_active],
            "lapsed": [
                i for i in introductions if i.status == Introduction.Status.PENDING and not i.mentorship.is_active
            ],
            "answered": [i for i in introductions if i.status != Introduction.Status.PENDING],
        },
    )


@login_required
@require_POST
def introduction_respond_view(request, pk):
    introduction = object_for(
        request.user, Introduction.objects.select_related("mentorship__mentee"), pk, "matching.respond_to_introduction"
    )
    form = IntroductionResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to meet, to mentor, or to decline.")
        return redirect("matching:introductions")
    response = form.cleaned_data["response"]
    try:
        introduction_respond(introduction=introduction, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("matching:introductions")
    mentee = introduction.mentorship.mentee
    if response == "mentorship":
        messages.success(request, f"You are now {mentee.full_name}'s {Kind(introduction.kind).label.lower()} mentor.")
    elif response == "meeting":
        messages.success(
            request, f"{mentee.full_name} has been told. Write to them at {mentee.email} to find a time to meet."
        )
    else:
        messages.success(request, "Your answer is sent, with thanks for the introduction.")
    return redirect("matching:introductions")


urlpatterns = [
    path("mentorships/", mentorship_list, name="mentorships"),
    path("mentorships/<int:pk>/", mentorship_detail, name="mentorship-detail"),
    path("mentorships/<int:pk>/agreement/", mentorship_agreement, name="mentorship-agreement"),
    path("mentorships/<int:pk>/end/", mentorship_end_view, name="mentorship-end"),
    path("mentorships/<int:pk>/thanks/", mentorship_thanks, name="mentorship-thanks"),
    path("mentorships/<int:pk>/action-items/", action_item_create_view, name="action-item-create"),
    path("action-items/<int:pk>/", action_item_update_view, name="action-item-update"),
    path("action-items/<int:pk>/edit/", action_item_edit_view, name="action-item-edit"),
    path("action-items/<int:pk>/delete/", action_item_delete_view, name="action-item-delete"),
    path("mentorships/<int:pk>/resources/", resource_create_view, name="resource-create"),
    path("resources/<int:pk>/edit/", resource_edit_view, name="resource-edit"),
    path("resources/<int:pk>/delete/", resource_delete_view, name="resource-delete"),
    path("mentorships/<int:pk>/introductions/", introduction_create_view, name="introduction-create"),
    path("mentorships/<int:pk>/checkins/", checkin_create_view, name="checkin-create"),
    path("introductions/", introduction_list, name="introductions"),
    path("introductions/<int:pk>/respond/", introduction_respond_view, name="introduction-respond"),
]
