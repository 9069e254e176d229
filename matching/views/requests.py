"""Pages for mentorship requests: ask a mentor, follow your requests, answer them.

Every change goes through ``matching.services.requests``; who may do what is asked
of ``matching.rules``. A refusal from a service (a full mentor, a request someone
else already answered) comes back to the person as a message or a form error.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import roles_of
from core.access import object_for
from core.forms import add_service_errors, form_status
from core.idempotency import once_claim, once_done, once_release

from ..capacity import Load
from ..forms.requests import AnswerForm, QuestionForm, RequestForm, ResponseForm
from ..models import MentorshipRequest
from ..selectors import requests as request_selectors
from ..selectors.directory import active_mentee_count, mentor_directory
from ..services import requests as request_services
from .messages import post_message, thread_context

REQUESTS_PAGE_SIZE = 20


def _names_fields_of(exc: ValidationError, form) -> bool:
    """True when every message of ``exc`` names a field of ``form``, so it belongs beside
    that field; any other refusal is about the request's state and becomes a message."""
    return hasattr(exc, "error_dict") and all(field in form.fields for field in exc.error_dict)


# --- Loading.


def _get_mentor(mentor_pk):
    """The mentor's directory entry (with open spots), or 404."""
    profile = mentor_directory().filter(user_id=mentor_pk).first()
    if profile is None:
        raise Http404
    return profile


# --- Asking.


@login_required
def request_create(request, mentor_pk):
    profile = _get_mentor(mentor_pk)
    mentor = profile.user
    if not request.user.has_perm("matching.request_mentor", mentor):
        raise PermissionDenied
    existing = MentorshipRequest.objects.filter(
        mentee=request.user, mentor=mentor, status=MentorshipRequest.Status.PENDING
    ).first()
    if existing is not None:
        messages.info(request, f"You already asked {mentor.full_name}; here is your request.")
        return redirect(existing)
    form = RequestForm(
        request.POST or None,
        programs=request_selectors.request_programs(mentee=request.user, mentor=mentor),
        initial={"kind": request_selectors.kind_to_suggest(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        once = data.pop("once", "")
        scope = f"request-create:{mentor.pk}"
        first, url = once_claim(request, scope, once)
        if not first:
            # A double tap: the first submission made (or is making) the request.
            return redirect(url or "matching:requests")
        try:
            created = request_services.request_create(mentee=request.user, mentor=mentor, **data)
        except ValidationError as exc:
            once_release(request, scope, once)
            add_service_errors(form, exc)
        except BaseException:
            once_release(request, scope, once)
            raise
        else:
            once_done(request, scope, once, created.get_absolute_url())
            messages.success(
                request, f"Your request is on its way to {mentor.full_name}. We'll let you know when they answer."
            )
            return redirect(created)
    pending_count = MentorshipRequest.objects.filter(
        mentee=request.user, status=MentorshipRequest.Status.PENDING
    ).count()
    return render(
        request,
        "matching/requests/form.html",
        {
            "form": form,
            "mentor": profile,
            "can_request": profile.accepting_mentees and profile.open_spots > 0,
            "pending_count": pending_count,
            "pending_limit": settings.MENTORMATCH["MAX_PENDING_REQUESTS"],
        },
        status=form_status(form),
    )


# --- Following.


def _roles_for(user) -> list[str]:
    """The sides of /requests/ this user has: received (mentors), sent (residents), program (coordinators)."""
    held = roles_of(user)
    roles = []
    if "faculty" in held or hasattr(user, "mentor_profile"):
        roles.append("received")
    if "resident" in held or hasattr(user, "mentee_profile"):
        roles.append("sent")
    if "coordinator" in held:
        roles.append("program")
    return roles


@login_required
def request_list(request):
    roles = _roles_for(request.user)
    role = request.GET.get("role")
    if role not in roles:
        role = roles[0] if roles else "sent"
    status = request.GET.get("status")
    if status not in request_selectors.REQUEST_STATUS_GROUPS:
        status = "pending"
    side = request_selectors.request_list(request.user, role=role)
    counts = request_selectors.request_counts(side)
    page = Paginator(
        side.filter(status__in=request_selectors.REQUEST_STATUS_GROUPS[status]), REQUESTS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "matching/requests/list.html",
        {
            "role": role,
            "roles": [(r, request_selectors.REQUEST_ROLES[r]) for r in roles],
            "status": status,
            "tabs": [(group, group.capitalize(), counts[group]) for group in request_selectors.REQUEST_STATUS_GROUPS],
            "page_obj": page,
            "requests": page.object_list,
        },
    )


def _detail_context(request, mentorship_request, *, response_form=None, message_form=None, mark_read=False):
    user = request.user
    responds = user.has_perm("matching.respond_to_request", mentorship_request)
    is_mentee = user.has_perm("matching.withdraw_request", mentorship_request)
    paired_with = request_selectors.pair_mentorship(mentorship_request) if mentorship_request.is_pending else None
    actions = {
        # Already paired another way (a coordinator, a match run): accepting would fail.
        "accept": responds and mentorship_request.can_accept() and paired_with is None,
        "decline": responds and mentorship_request.can_decline(),
        "withdraw": is_mentee and mentorship_request.can_withdraw(),
    }
    context = {
        "req": mentorship_request,
        "actions": actions,
        "paired_with": paired_with,
        "is_mentor": mentorship_request.mentor_id == user.pk,
        "is_mentee": mentorship_request.mentee_id == user.pk,
    }
    if actions["accept"] and context["is_mentor"]:
        # A full mentor is told before pressing Accept, not after (the service refuses it).
        profile = getattr(user, "mentor_profile", None)
        if profile is not None:
            context["mentor_load"] = Load(taken=active_mentee_count(user), capacity=profile.capacity)
    if actions["accept"] or actions["decline"]:
        # One note, sent with whichever button is pressed (Accept or Decline).
        context["response_form"] = response_form or ResponseForm(prefix="respond")
    if user.has_perm("matching.message_thread", mentorship_request):
        context.update(thread_context(request, mentorship_request, form=message_form, mark_read=mark_read))
    return context


@login_required
def request_detail(request, pk):
    mentorship_request = object_for(request.user, request_selectors.requests_for_page(), pk, "matching.view_request")
    return render(
        request, "matching/requests/detail.html", _detail_context(request, mentorship_request, mark_read=True)
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_messages(request, pk):
    """A message in the request's thread (the pair only; the program's coordinators, who see
    the request, get 403). The thread is shown on the request's page: a link to this address
    (typed, or shared) goes there."""
    mentorship_request = object_for(
        request.user,
        request_selectors.requests_for_page(),
        pk,
        "matching.message_thread",
        visible_with="matching.view_request",
    )
    if request.method == "GET":
        return redirect(mentorship_request.get_absolute_url() + "#latest")
    done, form = post_message(request, mentorship_request)
    if done is not None:
        return done
    return render(
        request,
        "matching/requests/detail.html",
        _detail_context(request, mentorship_request, message_form=form),
        status=form_status(form),
    )


# --- Answering. Each action is a POST from the detail page; its guard lives in the service.


def _act(request, pk, *, name, form_class, service, success):
    """Run one action: validate its form, call the service, and say what happened.

    A field error re-renders the page beside the field. A refusal about the request's
    state (someone answered first, the mentor is full) becomes a message. A permission
    refusal is a 403.
    """
    mentorship_request = object_for(request.user, request_selectors.requests_for_page(), pk, "matching.view_request")
    prefix = "respond" if form_class is ResponseForm else name
    form = form_class(request.POST, prefix=prefix) if form_class else None
    if form is not None and not form.is_valid():
        return _rerender(request, mentorship_request, name, form)
    try:
        result = service(request=mentorship_request, actor=request.user, **(form.cleaned_data if form else {}))
    except ValidationError as exc:
        if form is not None and _names_fields_of(exc, form):
            add_service_errors(form, exc)
            return _rerender(request, mentorship_request, name, form)
        messages.error(request, " ".join(exc.messages))
        return redirect(mentorship_request)
    return success(result)


def _rerender(request, mentorship_request, name, form):
    if name not in ("accept", "decline"):
        # The old question and answer forms (kept for bookmarked pages) post into the thread.
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(mentorship_request)
    context = _detail_context(request, mentorship_request, response_form=form)
    return render(request, "matching/requests/detail.html", context, status=form_status(form))


@login_required
@require_POST
def request_accept(request, pk):
    def done(mentorship):
        messages.success(request, f"You're now {mentorship.mentee.full_name}'s mentor. Propose a first meeting.")
        return redirect(mentorship)

    return _act(
        request, pk, name="accept", form_class=ResponseForm, service=request_services.request_accept, success=done
    )


@login_required
@require_POST
def request_decline(request, pk):
    def done(declined):
        messages.success(request, f"You declined {declined.mentee.full_name}'s request; they have been told.")
        return redirect(declined)

    return _act(
        request, pk, name="decline", form_class=ResponseForm, service=request_services.request_decline, success=done
    )


@login_required
@require_POST
def request_question(request, pk):
    def done(asked):
        messages.success(request, f"Your question is on its way to {asked.mentee.full_name}.")
        return redirect(asked)

    return _act(
        request,
        pk,
        name="question",
        form_class=QuestionForm,
        service=request_services.request_ask_question,
        success=done,
    )


@login_required
@require_POST
def request_answer(request, pk):
    def done(answered):
        messages.success(request, f"Your answer is on its way to {answered.mentor.full_name}.")
        return redirect(answered)

    return _act(
        request, pk, name="answer", form_class=AnswerForm, service=request_services.request_answer, success=done
    )


def _withdraw_settled(request, mentorship_request):
    """A request that can no longer be withdrawn: a second tap on "Yes, withdraw" (the first
    one did it) is told so kindly; an answered or expired one says what it is."""
    if mentorship_request.status == MentorshipRequest.Status.WITHDRAWN:
        messages.info(request, f"You withdrew your request to {mentorship_request.mentor.full_name}.")
    else:
        messages.error(request, f"This request is already {mentorship_request.get_status_display().lower()}.")
    return redirect(mentorship_request)


@login_required
@require_http_methods(["GET", "POST"])
def request_withdraw(request, pk):
    """GET (a reload, a link) and a POST without ``confirm=yes`` show what withdrawing does
    and change nothing; the confirmation page's POST withdraws. Only the resident who asked
    may (``matching.withdraw_request``): the mentor and the program's coordinators, who see
    the request, get 403, anyone else 404. A repeat once withdrawn changes nothing."""
    mentorship_request = object_for(
        request.user,
        request_selectors.requests_for_page(),
        pk,
        "matching.withdraw_request",
        visible_with="matching.view_request",
    )
    if not mentorship_request.can_withdraw():
        return _withdraw_settled(request, mentorship_request)
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "matching/requests/withdraw_confirm.html", {"req": mentorship_request})
    try:
        withdrawn = request_services.request_withdraw(request=mentorship_request, actor=request.user)
    except ValidationError:
        # Withdrawn (or answered) meanwhile, by a tap a moment earlier: the service's lock saw it.
        mentorship_request.refresh_from_db(fields=["status"])
        return _withdraw_settled(request, mentorship_request)
    messages.success(request, f"You withdrew your request to {withdrawn.mentor.full_name}.")
    return redirect(withdrawn)


urlpatterns = [
    path("mentors/<int:mentor_pk>/request/", request_create, name="request-create"),
    path("requests/", request_list, name="requests"),
    path("requests/<int:pk>/", request_detail, name="request-detail"),
    path("requests/<int:pk>/accept/", request_accept, name="request-accept"),
    path("requests/<int:pk>/decline/", request_decline, name="request-decline"),
    path("requests/<int:pk>/question/", request_question, name="request-question"),
    path("requests/<int:pk>/answer/", request_answer, name="request-answer"),
    path("requests/<int:pk>/withdraw/", request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/messages/", request_messages, name="request-messages"),
]
