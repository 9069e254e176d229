"""No personal data in URLs or logs (issue 6).

URLs end up in access logs, browser history and Referer headers; log lines end up in
whatever collects them. So a URL names objects by id, a program by its slug, and a
one-time link by its signed token, never by an e-mail, a name or free text; forms that
carry personal data POST it; and nothing the app logs (at DEBUG, the most it can be
made to say) contains a user's e-mail, name, request message or check-in comment.
"""

import logging
import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from accounts.models import Membership, User
from matching import engine
from matching.match_runs.execution import match_run_execute
from matching.match_runs.services import match_run_create
from matching.models import CheckIn, Mentorship, MentorshipRequest
from matching.tasks import send_notification_email
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

from .routes import url_patterns

pytestmark = pytest.mark.django_db

# --- 1. URLs


# A route parameter that is neither an id nor a program slug, with why it carries no personal data.
EXPLAINED_PARAMETERS = {
    ("accounts:password_reset_confirm", "uidb64"): "Django's signed reset link: the user's id, base64-encoded",
    ("accounts:password_reset_confirm", "token"): "Django's signed reset link: an HMAC, no data",
    ("accounts:invitation", "uidb64"): "signed invitation link: the user's id, base64-encoded",
    ("accounts:invitation", "token"): "signed invitation link: an HMAC, no data",
    ("matching:conflicts-add", "which"): "one of three fixed words (role, conflict, exception); others 404",
    ("matching:conflicts-remove", "which"): "one of three fixed words (role, conflict, exception); others 404",
    ("saml_login", "organization_slug"): "the institution's SSO name, set by a superuser: no personal data",
    ("saml_acs", "organization_slug"): "the institution's SSO name, set by a superuser: no personal data",
    ("saml_finish_acs", "organization_slug"): "the institution's SSO name, set by a superuser: no personal data",
    ("saml_sls", "organization_slug"): "the institution's SSO name, set by a superuser: no personal data",
    ("saml_metadata", "organization_slug"): "the institution's SSO name, set by a superuser: no personal data",
    ("matching:calendar-feed", "token"): "the feed's random secret (calendar apps cannot sign in): no personal data",
    ("matching:notifications-unsubscribe", "token"): "the user's id signed with an HMAC (mail clients post to it): "
    "no personal data",
}
# Django's admin addresses rows by primary key (``<path:object_id>``) and routes by app label;
# it is for superusers and not ours to reshape.
ADMIN_PREFIX = "admin/"

_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>")
_ID_NAME = re.compile(r"^(?:pk|id|\w+_pk|\w+_id)$")


def unexplained_parameters(routes):
    """``route (name): <parameter>`` for each parameter that is not an id, a slug or explained."""
    found = []
    for route, name in routes:
        if route.startswith(ADMIN_PREFIX):
            continue
        for m in _PARAMETER.finditer(route):
            converter, param = m["converter"] or ("regex" if m["group"] else "str"), m["name"] or m["group"]
            if converter == "int" or (converter == "slug" and param == "slug"):
                continue
            # DRF routers write ``(?P<id>[^/.]+)``: the viewset's lookup, an id or a slug by name.
            if converter == "regex" and (_ID_NAME.match(param) or param == "slug"):
                continue
            if (name, param) in EXPLAINED_PARAMETERS:
                continue
            found.append(f"{route} ({name}): {m.group(0)}")
    return found


def test_every_url_parameter_is_an_id_a_slug_or_a_signed_token():
    unexplained = unexplained_parameters(url_patterns())
    assert not unexplained, (
        "These URL parameters may carry personal data into access logs and browser history. Address "
        "the object by <int:pk> (or the program by <slug:slug>), or add the parameter to "
        f"EXPLAINED_PARAMETERS with the reason it is safe: {unexplained}"
    )


def test_a_route_taking_an_email_or_a_name_is_caught():
    """Control: the check above does fail on the routes it exists to keep out."""
    routes = [
        ("people/<str:email>/", "accounts:person-by-email"),
        ("people/<name>/", "accounts:person-by-name"),
        ("api/v1/^people/(?P<email>[^/.]+)/$", "accounts-api:person"),
        ("search/<path:q>/", "search"),
        ("programs/<slug:name>/", "accounts:by-name"),  # a slug converter, but of a person's name
        ("people/<int:pk>/", "matching:person"),
    ]
    assert [r.split(" ")[0] for r in unexplained_parameters(routes)] == [
        "people/<str:email>/",
        "people/<name>/",
        "api/v1/^people/(?P<email>[^/.]+)/$",
        "search/<path:q>/",
        "programs/<slug:name>/",
    ]


class _Forms(HTMLParser):
    """Each ``<form>`` of a page: its method and the names of its fields."""

    def __init__(self):
        super().__init__()
        self.forms, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action"),
                "fields": set(),
            }
            self.forms.append(self._open)
        elif tag in {"input", "textarea", "select"} and self._open is not None and attrs.get("name"):
            self._open["fields"].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def _forms(response):
    assert response.status_code == 200, response.status_code
    parser = _Forms()
    parser.feed(response.content.decode())
    return parser.forms


# Field names that hold personal data or free text about a person.
PERSONAL_FIELDS = {
    "login",
    "username",
    "password",
    "email",
    "first_name",
    "last_name",
    "message",
    "comment",
    "notes",
    "note",
    "file",
    "reason",
    "question",
    "answer",
    "body",  # a message
}


def _personal(fields):
    return {f for f in fields if f.split("-")[-1] in PERSONAL_FIELDS}


# (page, who looks at it, a field the form that must POST carries)
FORM_PAGES = [
    ("login", "anonymous", lambda w: reverse("accounts:login"), "login"),
    (
        "request",
        "resident",
        lambda w: reverse("matching:request-create", args=[w.users["other_attending"].pk]),
        "message",
    ),
    ("check-in", "attending", lambda w: reverse("matching:mentorship-detail", args=[w.mentorship.pk]), "comment"),
    ("meeting cancellation", "resident", lambda w: reverse("matching:meeting-detail", args=[w.meeting.pk]), "reason"),
    ("roster upload", "coordinator", lambda w: reverse("accounts:roster-import", args=[w.im.slug]), "file"),
    (
        "accept with a note",
        "other_attending",
        lambda w: reverse("matching:request-detail", args=[w.request.pk]),
        "respond-note",  # one note box for Accept and Decline
    ),
    # The pair's messages: on the mentorship's thread and the request's.
    (
        "message in a mentorship",
        "resident",
        lambda w: reverse("matching:mentorship-messages", args=[w.mentorship.pk]),
        "body",
    ),
    (
        "message on a request",
        "other_attending",
        lambda w: reverse("matching:request-detail", args=[w.request.pk]),
        "body",
    ),
    # A search box is where people type e-mails and names.
    ("roster search", "coordinator", lambda w: reverse("accounts:roster", args=[w.im.slug]), "q"),
    ("audit search", "coordinator", lambda w: reverse("matching:audit", args=[w.im.slug]), "q"),
]


@pytest.mark.parametrize("page, role, url, field", FORM_PAGES, ids=[p[0] for p in FORM_PAGES])
def test_forms_carrying_personal_data_post_it(world, page, role, url, field):
    forms = _forms(world.client(role).get(url(world)))
    carrying = [f for f in forms if field in f["fields"]]
    assert carrying, f"no form on the {page} page has a {field!r} field: {forms}"
    assert all(f["method"] == "post" for f in carrying), carrying
    # The page's GET forms (filters, search) carry none of it.
    assert not [f for f in forms if f["method"] != "post" and _personal(f["fields"])]


def _hrefs(html):
    return re.findall(r'href="([^"]*)"', html)


def _our_links_with_personal_data(html):
    """Links into the app whose path or query has an e-mail ('@', or '%40' once encoded).
    ``mailto:`` links name the address on purpose and go to the mail program, not to us."""
    return [h for h in _hrefs(html) if not h.startswith("mailto:") and ("@" in h or "%40" in h.lower())]


def _many_members(program):
    """Thirty more faculty, each mentoring a new resident, so the roster and the pairings
    have a second page (25 a page) and page links to check."""
    for n in range(30):
        mentor = UserFactory(first_name="Paged", last_name=f"Mentor{n:02d}", email=f"paged.mentor{n}@hospital.example")
        MembershipFactory(user=mentor, program=program, role=Membership.Role.FACULTY)
        MentorProfileFactory(user=mentor)
        mentee = UserFactory(first_name="Paged", last_name=f"Mentee{n:02d}", email=f"paged.mentee{n}@hospital.example")
        MembershipFactory(user=mentee, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=mentee)
        Mentorship.objects.create(mentee=mentee, mentor=mentor, program=program)


@pytest.mark.parametrize(
    "name, query",
    [
        ("accounts:roster", {}),
        ("accounts:roster", {"page": "2"}),
        ("matching:pairings", {}),
        ("matching:pairings", {"status": "active", "kind": "career", "page": "2"}),
        ("matching:pairings", {"mentor": "{carol}"}),
        ("matching:pairings", {"unpaired": "research"}),
    ],
)
def test_links_and_filters_our_pages_generate_carry_no_email(world, name, query):
    _many_members(world.im)
    query = {k: v.format(carol=world.users["attending"].pk) for k, v in query.items()}
    response = world.client("coordinator").get(reverse(name, args=[world.im.slug]), query)
    html = response.content.decode()
    assert response.status_code == 200
    if len(response.context["page_obj"].paginator.object_list) > 25:
        assert "page=" in html, "control: the list is paginated, so its page links were among those checked"
    assert _our_links_with_personal_data(html) == []


@pytest.mark.parametrize("name", ["accounts:roster", "matching:audit"])
def test_searching_a_coordinator_list_by_email_keeps_it_out_of_the_url_and_the_links(world, name):
    """The search box POSTs; the search is kept in the session, the browser lands on the plain
    list URL, and neither the page links (pagination, export, re-invite) nor the URL carry it."""
    _many_members(world.im)
    url = reverse(name, args=[world.im.slug])
    client = world.client("coordinator")

    response = client.post(url, {"q": "paged.mentor1"}, follow=True)

    assert [url for url, _ in response.redirect_chain] == [url]
    assert response.status_code == 200
    assert response.context["filtered"], "control: the search took effect"
    html = response.content.decode()
    assert _our_links_with_personal_data(html) == []
    assert "paged.mentor1" not in "".join(_hrefs(html))
    # The same search by e-mail: the box echoes it back (a form field, not a link).
    response = client.post(url, {"q": "bob@hospital.example"}, follow=True)
    assert response.context["form"]["q"].value() == "bob@hospital.example"
    assert _our_links_with_personal_data(response.content.decode()) == []


def test_a_search_in_an_old_link_is_not_echoed_into_the_page(world):
    url = reverse("accounts:roster", args=[world.im.slug])
    response = world.client("coordinator").get(url, {"q": "bob@hospital.example"}, follow=True)
    assert [u for u, _ in response.redirect_chain] == [url]
    assert _our_links_with_personal_data(response.content.decode()) == []


def test_the_link_check_sees_an_email_in_a_query_string():
    """Control for the check above."""
    html = '<a href="?q=alice%40hospital.example&amp;page=2">Next</a> <a href="mailto:a@b.example">Mail</a>'
    assert _our_links_with_personal_data(html) == ["?q=alice%40hospital.example&amp;page=2"]


# --- 2. Logs

CHECKIN_COMMENT = "Overwhelmed on nights, Quillfeather helps"
REQUEST_MESSAGE = "Hoping for guidance on my Zanzibar-cardiology fellowship plan"
ROSTER_CSV = (
    "email,first_name,last_name,role,pgy,specialty\n"
    "ignatius.wolfsbane@hospital.example,Ignatius,Wolfsbane,resident,PGY-1,\n"
    "perpetua.marchbanks@hospital.example,Perpetua,Marchbanks,faculty,,Internal Medicine\n"
)


@pytest.fixture
def logs(request):
    """Every record, at DEBUG: the root logger, and the loggers configured with a level of
    their own (axes in our settings, django in Django's defaults): a pinned level is a
    choice somebody may change, not a guarantee."""
    if not request.config.pluginmanager.has_plugin("logging"):
        pytest.skip("pytest's logging plugin is off (-p no:logging), so caplog, which these tests read, is not there")
    caplog = request.getfixturevalue("caplog")
    caplog.set_level(logging.DEBUG)
    for name in ("axes", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _personal_data():
    """Every user's e-mail and names, and every request message and check-in comment stored."""
    values = set()
    for email, first, last in User.objects.values_list("email", "first_name", "last_name"):
        values |= {email, email.split("@")[0], first, last}
    values |= set(MentorshipRequest.objects.values_list("message", flat=True))
    values |= set(CheckIn.objects.values_list("comment", flat=True))
    values |= {REQUEST_MESSAGE, CHECKIN_COMMENT}
    return {v for v in values if v and len(v) >= 3}


def _record_text(record):
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        text += "\n" + record.exc_text
    return text


def _leaks(caplog, *, extra=()):
    values = _personal_data() | set(extra)
    patterns = [(v, re.compile(rf"(?<!\w){re.escape(v)}(?!\w)", re.IGNORECASE)) for v in values]
    found = []
    for record in caplog.records:
        text = _record_text(record)
        for value, pattern in patterns:
            if pattern.search(text):
                found.append(f"{record.name} {record.levelname}: {value!r} in {text[:300]!r}")
    return found


def _assert_logged_and_clean(caplog, logger_prefix, *, extra=()):
    names = {r.name for r in caplog.records}
    assert any(n.startswith(logger_prefix) for n in names), (
        f"control: nothing was logged by {logger_prefix}, so the check saw nothing ({sorted(names)})"
    )
    leaks = _leaks(caplog, extra=extra)
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks)


def test_the_leak_check_finds_an_email_a_name_and_a_comment(world, logs):
    """Control: the check below does see personal data when a record has it."""
    alice = world.users["resident"]
    logging.getLogger("matching.anything").warning("Request from %s", alice.email)
    logging.getLogger("matching.anything").info("Adams said: %s", CHECKIN_COMMENT)
    try:
        raise ValueError(f"bad row for {alice.first_name}")
    except ValueError:
        logging.getLogger("matching.anything").exception("Import failed")
    leaks = "\n".join(_leaks(logs))
    assert "alice@hospital.example" in leaks and "'Adams'" in leaks and CHECKIN_COMMENT in leaks and "'Alice'" in leaks


def test_failed_log_ins_and_the_lockout_log_no_email(world, client, logs):
    login = reverse("accounts:login")
    for _ in range(5):
        client.post(login, {"login": "Alice@Hospital.example", "password": "wrong"})
    locked = client.post(login, {"login": "alice@hospital.example", "password": PASSWORD})
    assert locked.status_code == 429
    # An address nobody has: a typo, or someone guessing.
    client.post(login, {"login": "mallory.guesser@elsewhere.example", "password": "wrong"})

    assert any("Locking out" in r.getMessage() for r in logs.records), "control: axes logged the lockout"
    _assert_logged_and_clean(logs, "axes", extra={"mallory.guesser@elsewhere.example", "mallory.guesser"})


def test_api_token_failures_and_a_successful_log_in_and_out_log_no_email(world, client, logs):
    api = APIClient()
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"email": "alice@hospital.example", "password": "wrong"})
    assert api.post("/api/v1/auth/token/", {"email": "alice@hospital.example", "password": PASSWORD}).status_code == 429
    carol = world.users["attending"]
    assert client.post(reverse("accounts:login"), {"login": carol.email, "password": PASSWORD}).status_code == 302
    client.post(reverse("accounts:logout"))
    _assert_logged_and_clean(logs, "axes")
    # axes keeps each failure's form data too, a log of its own that admins browse. The API reads
    # JSON, which axes does not record at all (it keeps form fields only): no address, masked or not.
    (post_data,) = AccessAttempt.objects.values_list("post_data", flat=True)
    assert "alice@hospital.example" not in post_data and "alice" not in post_data, post_data
    assert AccessAttempt.objects.get().failures_since_start >= 5  # the failures were recorded


def test_the_lockout_check_would_see_an_unmasked_email(world, client, logs, settings):
    """Control: with axes told to mask nothing, its lockout lines carry the e-mail, and the check says so."""
    settings.AXES_SENSITIVE_PARAMETERS = []
    login = reverse("accounts:login")
    for _ in range(5):
        client.post(login, {"login": "alice@hospital.example", "password": "wrong"})
    leaks = _leaks(logs)
    assert leaks and all(leak.startswith("axes.") for leak in leaks), leaks
    assert any("Locking out" in leak and "alice@hospital.example" in leak for leak in leaks)


def test_a_roster_import_logs_counts_not_people(world, logs):
    client = world.client("coordinator")
    upload = client.post(
        reverse("accounts:roster-import", args=[world.im.slug]),
        {"file": SimpleUploadedFile("ignatius-wolfsbane.csv", ROSTER_CSV.encode())},
    )
    assert upload.status_code == 302, upload.content.decode()[:500]
    client.post(upload["Location"])
    assert User.objects.filter(email="perpetua.marchbanks@hospital.example").exists()
    _assert_logged_and_clean(logs, "accounts.roster")


def _request_alice_to_dave(world, capture):
    with capture(execute=True):
        sent = world.client("resident").post(
            reverse("matching:request-create", args=[world.users["other_attending"].pk]),
            {"kind": "research", "message": REQUEST_MESSAGE},
        )
    assert sent.status_code == 302, sent.content.decode()[:500]
    return MentorshipRequest.objects.get(mentee=world.users["resident"], mentor=world.users["other_attending"])


def test_a_request_accept_and_check_in_log_no_message_or_comment(world, logs, django_capture_on_commit_callbacks):
    request = _request_alice_to_dave(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = world.client("other_attending").post(
            reverse("matching:request-accept", args=[request.pk]), {"respond-note": "Happy to, Alice Adams"}
        )
    assert accepted.status_code == 302
    mentorship = Mentorship.objects.get(mentee=world.users["resident"], mentor=world.users["other_attending"])
    with django_capture_on_commit_callbacks(execute=True):
        checked_in = world.client("resident").post(
            reverse("matching:checkin-create", args=[mentorship.pk]), {"rating": "2", "comment": CHECKIN_COMMENT}
        )
    assert checked_in.status_code == 302
    # Nothing need log on the happy path; whatever did is checked.
    assert not _leaks(logs), _leaks(logs)


def test_a_broker_outage_logs_ids_not_people(world, logs, monkeypatch, django_capture_on_commit_callbacks):
    def unreachable(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_notification_email, "delay", unreachable)
    _request_alice_to_dave(world, django_capture_on_commit_callbacks)
    assert any("left to the sweeper" in r.getMessage() for r in logs.records), "control: the outage was logged"
    _assert_logged_and_clean(logs, "core.outbox")


@pytest.mark.parametrize(
    "error",
    [RuntimeError("solver crashed"), OperationalError("server closed the connection unexpectedly")],
    ids=["unexpected", "database"],
)
def test_a_failed_match_run_logs_ids_not_people(world, logs, monkeypatch, error):
    def broken(instance, mode):
        raise error

    monkeypatch.setattr(engine, "solve", broken)
    u = world.users
    run = match_run_create(
        program=world.im,
        actor=u["coordinator"],
        mentee_ids=[u["resident"].pk, u["other_resident"].pk],
        mentor_ids=[u["attending"].pk, u["other_attending"].pk],
        kind="research",
        algorithm="stable",
    )
    try:
        match_run_execute(run.pk, final_attempt=True)  # what the run_match task calls
    except OperationalError:
        pass  # re-raised for Celery to retry; the run is failed first on the final attempt
    run.refresh_from_db()
    assert run.status == "failed"
    _assert_logged_and_clean(logs, "matching.match_runs.execution")


def test_refused_pages_and_api_calls_log_paths_of_ids(world, logs):
    alice, carol = world.users["resident"], world.users["attending"]
    client, api, bob = world.client("resident"), APIClient(), APIClient()
    api.force_authenticate(alice)
    bob.force_authenticate(world.users["other_resident"])  # the mentee may not accept his own request
    bobs = world.request  # Bob's request to Dave: Alice may not see it, let alone accept it

    statuses = {
        "page 404": client.get(reverse("matching:request-detail", args=[bobs.pk + 1000])).status_code,
        "page 403": client.get(reverse("accounts:programs")).status_code,
        "page accept": client.post(
            reverse("matching:request-accept", args=[bobs.pk]), {"respond-note": "x"}
        ).status_code,
        "page 400": world.client("resident")
        .post(
            reverse("matching:checkin-create", args=[world.mentorship.pk]), {"rating": "9", "comment": CHECKIN_COMMENT}
        )
        .status_code,
        "api 404": api.get(f"/api/v1/requests/{bobs.pk + 1000}/").status_code,
        "api 403": bob.post(f"/api/v1/requests/{bobs.pk}/accept/", {}, format="json").status_code,
        "api accept": api.post(f"/api/v1/requests/{bobs.pk}/accept/", {}, format="json").status_code,
        "api 400": api.post(
            "/api/v1/requests/", {"mentor": carol.email, "message": REQUEST_MESSAGE}, format="json"
        ).status_code,
    }
    assert statuses == {
        "page 404": 404,
        "page 403": 403,
        "page accept": 404,
        "page 400": 400,
        "api 404": 404,
        "api 403": 403,
        "api accept": 404,
        "api 400": 400,
    }
    assert any(r.name == "django.request" for r in logs.records), "control: the refusals were logged"
    _assert_logged_and_clean(logs, "django.request")
