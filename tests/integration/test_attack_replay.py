"""Issue 11, replayed against a production-like server: every finding is refused or harmless.

tests/security/attacks/ has one regression test per finding, in process. Here the same
attacks go over real HTTP to gunicorn with ``DJANGO_DEBUG=false`` (a real SECRET_KEY, one
allowed host, the manifest static storage, secure cookies), PostgreSQL, Redis and a Celery
worker, as a hostile coordinator of General Surgery and as the people of Internal Medicine:
signing in through the log-in page with its CSRF token, uploading CSV files, using API tokens.
Each test asserts the safe behaviour, and that no response was a 5xx.

One server, worker and Redis serve the whole module (their start-up is most of its cost); each
test seeds its own people in the test database the server reads (transactional, flushed after
each test) and starts with an empty throttle cache and mailbox, so the tests stay independent.

TLS ends at a proxy in production (docker-compose: ``SECURE_SSL_REDIRECT=false``; the proxy
sets ``X-Forwarded-Proto``). Here the client plays that proxy's part: it says https, and sends
the secure cookies over the loopback hop. ``TRUSTED_PROXY_COUNT`` stays 0, the default: every
request comes from 127.0.0.1 whatever X-Forwarded-For says.
"""

import csv
import email
import email.policy
import io
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from accounts.models import User
from tests.factories import PASSWORD

from .conftest import ROOT, PrivateRedis, _stop, _wait_until, launch_web_server, launch_worker, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Small enough that a multi-megabyte body is obviously over it, large enough for every other file here.
ROSTER_MAX_UPLOAD_BYTES = 100_000
# The production settings as deployed, plus the two paths a test server needs of its own: the
# collected static files (the manifest storage refuses to render a page without them; the
# checkout's staticfiles/ is left alone) and a folder for the file-based e-mail backend (the
# server and the worker are separate processes, so locmem would show nothing).
SETTINGS_MODULE = """
import os
from config.settings import *  # noqa: F403
STATIC_ROOT = os.environ["REPLAY_STATIC_ROOT"]
EMAIL_FILE_PATH = os.environ["REPLAY_EMAIL_DIR"]
"""
EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # between messages in one file (Django's console format)


@cache
def server_password() -> str:
    """PASSWORD hashed with the server's hasher: the tests' fast MD5 (config/settings_test.py) is
    not among the production hashers. Hashed once, as a production-cost hash takes a while."""
    return make_password(PASSWORD, hasher=PBKDF2PasswordHasher())


def with_server_password(*users):
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=server_password())
    return users[0] if len(users) == 1 else users


class Stack:
    """The server, its worker and Redis; what the server answered, what was e-mailed."""

    def __init__(self, *, base, server, redis, mail_dir, procs, env):
        self.base, self.server, self.redis, self.mail_dir, self.procs, self.env = (
            base,
            server,
            redis,
            mail_dir,
            procs,
            env,
        )
        self.responses = []

    def reset(self):
        """Between tests: no throttle counts or cached names (the cache's keys, not the broker's:
        Django's start with ":"), no mail, no responses."""
        import redis

        client = redis.Redis(port=self.redis.port)
        keys = list(client.scan_iter(match=":*"))
        if keys:
            client.delete(*keys)
        for path in self.mail_dir.glob("*"):
            path.unlink()
        self.responses.clear()

    def browser(self) -> "Browser":
        return Browser(self)

    def api(self, token=None) -> "Browser":
        browser = Browser(self)
        if token:
            browser.headers["Authorization"] = f"Token {token}"
        return browser

    def sign_in(self, user, password=PASSWORD) -> "Browser":
        browser = self.browser()
        response = browser.sign_in(user.email, password)
        assert response.status_code == 302, (user.email, response.status_code)
        return browser

    def token(self, user, password=PASSWORD) -> str:
        response = self.api().post("/api/v1/auth/token/", json={"email": user.email, "password": password})
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()["token"]

    def mail(self) -> list:
        """Every message sent so far (by the server or the worker), oldest first; one still being
        written (no separator after it yet) is left for the next look."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            for chunk in path.read_bytes().split(EMAIL_SEPARATOR)[:-1]:
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return messages

    def wait_for_mail(self, count, timeout=30) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(messages := self.mail()) >= count:
                return messages
            time.sleep(0.1)
        pytest.fail(f"{count} e-mails expected within {timeout} s, {len(self.mail())} sent")

    def server_log(self) -> str:
        return self.server.log.read_text()

    def assert_no_5xx(self):
        errors = [
            (r.request.method, r.request.path_url[:100], r.status_code) for r in self.responses if r.status_code >= 500
        ]
        assert errors == [], errors
        assert all(proc.poll() is None for proc in self.procs), "a process of the stack died"


class Browser(requests.Session):
    """A client of the server, behind the proxy that ends TLS (see the module's docstring).
    Paths are relative to the server; redirects are not followed unless asked."""

    def __init__(self, stack):
        super().__init__()
        self.stack = stack
        self.headers.update({"X-Forwarded-Proto": "https", "Origin": "https://" + stack.base.split("://")[1]})
        self.hooks["response"].append(lambda response, **kwargs: stack.responses.append(response))

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.stack.base + url if url.startswith("/") else url, **kwargs)

    def get(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)  # requests' own get() would follow them
        return super().get(url, **kwargs)

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        # The server marks its cookies Secure (the client's hop to the proxy is https); on the
        # loopback hop requests would keep them back.
        for cookie in self.cookies:
            cookie.secure = False
        return response

    def csrf_token(self, path) -> str:
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def submit(self, path, data=None, *, form=None, files=None, **kwargs):
        """POST ``data`` as the form on ``form`` (default: the page at ``path``) would, CSRF token included."""
        token = self.csrf_token(form or path)
        return self.post(path, data={"csrfmiddlewaretoken": token, **(data or {})}, files=files, **kwargs)

    def sign_in(self, email_address, password=PASSWORD):
        return self.submit("/accounts/login/", {"login": email_address, "password": password})

    def signed_in(self) -> bool:
        return self.get("/dashboard/").status_code == 200


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    (root / "replay_settings.py").write_text(SETTINGS_MODULE)
    (root / "mail").mkdir()
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "replay_settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "REPLAY_STATIC_ROOT": str(root / "static"),
        "REPLAY_EMAIL_DIR": str(root / "mail"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "ROSTER_MAX_UPLOAD_BYTES": str(ROSTER_MAX_UPLOAD_BYTES),
        "ROSTER_MAX_ROWS": "1000",
        "LOG_LEVEL": "WARNING",
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=service_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    redis = PrivateRedis(root)
    redis.start()
    procs = [redis.proc]
    try:
        env["REDIS_URL"] = redis.url
        launch_worker(procs, root, **env)
        base = launch_web_server(procs, root, **env)
        yield Stack(base=base, server=procs[-1], redis=redis, mail_dir=root / "mail", procs=procs, env=env)
    finally:
        for proc in reversed(procs):
            _stop(proc, timeout=20)


@pytest.fixture(autouse=True)
def _fresh_stack(stack):
    stack.reset()


def select_default(html, name) -> str:
    """The value a browser submits for the <select name=``name``> left as it is: the option
    marked selected, else the first."""
    block = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', block)
    return next((value for value, attrs in options if "selected" in attrs), options[0][0])


def names_of(*people) -> list[str]:
    """What a page about these people must not show a stranger: their names and addresses."""
    return [part for person in people for part in (person.first_name, person.last_name, person.email)]


ROSTER_HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"


def upload_roster(browser, program, text: str):
    return browser.submit(
        f"/programs/{program.slug}/roster/import/", files={"file": ("roster.csv", text.encode(), "text/csv")}
    )


# --- 1. Critical: a roster import took over people of other programs.


def _state(*users):
    """Everything about a person the import could have changed."""
    state = []
    for user in User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"):
        mentee = getattr(user, "mentee_profile", None)
        mentor = getattr(user, "mentor_profile", None)
        state.append(
            (
                user.email,
                user.first_name,
                user.last_name,
                user.time_zone,
                user.password,
                user.is_superuser,
                sorted(user.memberships.values_list("program__slug", "role")),
                mentee and mentee.career_stage_id,
                mentor and (mentor.specialty_id, mentor.academic_rank_id, mentor.career_stage_id),
            )
        )
    return state


def test_1_a_coordinator_of_another_program_imports_our_people_and_takes_over_nobody(
    stack, program, other_program, resident, attending, other_coordinator
):
    from accounts.models import ProgramInvitation

    superuser = User.objects.create_superuser("admin@hospital.example", PASSWORD, first_name="Ada", last_name="Admin")
    alice, carol, ada, oscar = with_server_password(resident, attending, superuser, other_coordinator)
    before = _state(alice, carol, ada)
    oscar_web = stack.sign_in(oscar)

    uploaded = upload_roster(
        oscar_web,
        other_program,
        (
            ROSTER_HEADER
            + f"{alice.email.upper()},Eve,Evil,resident,PGY-5,,,Asia/Tokyo\n"
            + f"{carol.email},Mallory,Moe,faculty,,General Surgery,Instructor,Asia/Tokyo\n"
            + f"{ada.email},Root,Kit,faculty,,General Surgery,Instructor,Asia/Tokyo\n"
        ),
    )
    assert uploaded.status_code == 302, uploaded.status_code
    preview_url = uploaded.headers["Location"]
    preview = oscar_web.get(preview_url)
    assert preview.status_code == 200
    assert preview.text.count("Existing account — will be invited to join General Surgery Residency") == 3
    # Nothing of their current data: Alice's PGY-1, Carol's specialty, their real names.
    for secret in ("PGY-1", "Internal Medicine", "Alice", "Carol", "Ada", "→"):
        assert secret not in preview.text, secret

    applied = oscar_web.submit(preview_url)
    assert applied.status_code == 302 and applied.headers["Location"] == f"/programs/{other_program.slug}/roster/"
    # Importing sends nothing; inviting is the next, separate step on the roster.
    roster_url = f"/programs/{other_program.slug}/roster/"
    assert oscar_web.submit(roster_url, {"action": "invite"}).status_code == 302

    assert _state(alice, carol, ada) == before
    invitations = ProgramInvitation.objects.filter(program=other_program, status="pending")
    assert sorted(invitations.values_list("user__email", flat=True)) == sorted([alice.email, carol.email, ada.email])
    # Each of them hears of it, at their own address (the worker sends it).
    mail = stack.wait_for_mail(3)
    assert sorted(m["To"] for m in mail) == sorted([alice.email, carol.email, ada.email])
    # Oscar sees what he typed, and nothing of theirs: not Alice's page, not Carol's address.
    assert oscar_web.get(f"/people/{alice.pk}/").status_code == 404
    assert carol.email not in oscar_web.get(f"/people/{carol.pk}/").text
    roster = stack.api(stack.token(oscar)).get(f"/api/v1/programs/{other_program.slug}/roster/")
    assert roster.status_code == 200
    assert not [secret for secret in names_of(alice, carol, ada) if secret in roster.text]

    stack.assert_no_5xx()


def test_1_after_she_joins_the_other_program_her_request_and_check_in_stay_with_her_mentors_program(
    stack, program, other_program, resident, attending, coordinator, other_coordinator
):
    """The second half of finding 1: Alice, asked to join General Surgery by its coordinator,
    accepts, and is a resident of both. Her next request goes to Carol, who is in Internal
    Medicine only: the request, the mentorship and her check-in belong there, although
    "General Surgery" sorts first. She submits the request form as her browser shows it."""
    from accounts.models import ProgramInvitation
    from matching.models import CheckIn, MentorshipRequest

    alice, carol, cora, oscar = with_server_password(resident, attending, coordinator, other_coordinator)
    oscar_web = stack.sign_in(oscar)
    uploaded = upload_roster(oscar_web, other_program, ROSTER_HEADER + f"{alice.email},Eve,Evil,resident,PGY-5,,,\n")
    assert oscar_web.submit(uploaded.headers["Location"]).status_code == 302
    assert oscar_web.submit(f"/programs/{other_program.slug}/roster/", {"action": "invite"}).status_code == 302
    invitation = ProgramInvitation.objects.get(user=alice, program=other_program)
    alice_web = stack.sign_in(alice)
    assert alice_web.submit(f"/invitations/{invitation.pk}/accept/", form="/invitations/").status_code == 302
    assert _state(alice)[0][6] == sorted([("gs", "resident"), ("im", "resident")])

    form = alice_web.get(f"/mentors/{carol.pk}/request/")
    assert form.status_code == 200
    fields = {"kind": select_default(form.text, "kind"), "message": "I'd value your advice on fellowship."}
    if 'name="program"' in form.text:
        fields["program"] = select_default(form.text, "program")
    asked = alice_web.submit(f"/mentors/{carol.pk}/request/", fields)
    assert asked.status_code == 302, asked.status_code
    request = MentorshipRequest.objects.get(mentee=alice, mentor=carol)
    accepted = stack.sign_in(carol).submit(
        f"/requests/{request.pk}/accept/", {"note": ""}, form=f"/requests/{request.pk}/"
    )
    assert accepted.status_code == 302
    mentorship = MentorshipRequest.objects.get(pk=request.pk).mentorship
    checked_in = alice_web.submit(
        f"/mentorships/{mentorship.pk}/checkins/",
        {"rating": "2", "comment": "Burnt out this month"},
        form=f"/mentorships/{mentorship.pk}/",
    )
    assert checked_in.status_code == 302
    assert CheckIn.objects.filter(mentorship=mentorship).count() == 1
    stack.assert_no_5xx()

    # Control: her own program's coordinator sees the check-in (so its absence below means something).
    comments = stack.api(stack.token(cora)).get(f"/api/v1/programs/{program.slug}/health/comments/")
    assert comments.status_code == 200 and "Burnt out this month" in comments.text
    comments = stack.api(stack.token(oscar)).get(f"/api/v1/programs/{other_program.slug}/health/comments/")
    assert comments.status_code == 200 and "Burnt out" not in comments.text
    assert (request.program_id, mentorship.program_id) == (program.pk, program.pk)


# --- 2. High: look-alike e-mail addresses locked people out.


def _legacy_row(address):
    """A look-alike account as an older version could have stored it (bypassing today's checks)."""
    user = User(email=address, first_name="Look", last_name="Alike", password=server_password())
    user.save()
    return user


def test_2_look_alike_addresses_are_refused_and_lock_nobody_out(stack, program, coordinator):
    from accounts.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    gabriela = UserFactory(email="gabriela.ward@hospital.example", first_name="Gabriela", last_name="Ward")
    MembershipFactory(user=gabriela, program=program, role=Membership.Role.RESIDENT)
    ada = User.objects.create_superuser("admin@hospital.example", PASSWORD, first_name="Ada", last_name="Admin")
    gabriela, ada, cora = with_server_password(gabriela, ada, coordinator)
    people = User.objects.count()
    cora_web = stack.sign_in(cora)

    uploaded = upload_roster(
        cora_web,
        program,
        (
            ROSTER_HEADER
            + "gabrıela.ward@hospital.example,Gabby,Wardell,resident,PGY-1,,,\n"  # a dotless ı
            + "admın@hospital.example,Root,Kit,faculty,,Internal Medicine,,\n"
        ),
    )
    assert uploaded.status_code == 302
    preview = cora_web.get(uploaded.headers["Location"])
    assert preview.status_code == 200
    assert preview.text.count("looks like the address of an existing account") == 2
    assert "Gabriela" not in preview.text and "Ada Admin" not in preview.text
    # The page offers no import; posting it anyway imports nobody.
    cora_web.submit(uploaded.headers["Location"])
    assert User.objects.count() == people

    # Look-alike rows an older version let in: the real accounts still sign in, on every door.
    _legacy_row("gabrıela.ward@hospital.example")
    _legacy_row("admın@hospital.example")
    assert stack.browser().sign_in("gabriela.ward@hospital.example").status_code == 302
    token = stack.api().post(
        "/api/v1/auth/token/", json={"email": "Gabriela.Ward@hospital.example", "password": PASSWORD}
    )
    assert token.status_code == 200 and token.json()["token"]
    admin = stack.browser()
    signed_in = admin.submit(
        "/accounts/login/", {"login": "admin@hospital.example", "password": PASSWORD, "next": "/admin/"}
    )
    # Signed in; the deployed settings then ask a superuser to set up a second factor first.
    assert signed_in.status_code == 302
    assert admin.get("/admin/").headers["Location"] == "/accounts/2fa/required/"

    # A password reset goes once, to the account the address names, never to its look-alike.
    assert (
        stack.browser().submit("/accounts/password/reset/", {"email": "GABRIELA.WARD@hospital.example"}).status_code
        == 302
    )
    [message] = stack.wait_for_mail(1)
    assert message["To"] == gabriela.email
    stack.assert_no_5xx()


# --- 3. Medium: each Unicode spelling of an address had its own five attempts.


def test_3_after_five_failures_no_spelling_of_the_address_signs_in(stack, program):
    from tests.factories import UserFactory

    lisa = with_server_password(UserFactory(email="lisa.sims@hospital.example"))
    attacker = stack.browser()
    failures = [attacker.sign_in(lisa.email, "wrong-password").status_code for _ in range(5)]
    assert failures == [200] * 4 + [429]  # the fifth failure locks the account

    for spelling in ["lisa.ſims@hospital.example", "LISA.SIMS@hospital.example"]:  # a long s; capitals
        browser = stack.browser()
        assert browser.sign_in(spelling).status_code == 429, spelling
        assert not browser.signed_in()
        assert (
            stack.api().post("/api/v1/auth/token/", json={"email": spelling, "password": PASSWORD}).status_code == 429
        )
    for spelling in ["lısa.sims@hospital.example", "ｌｉｓａ.sims@hospital.example"]:  # a dotless ı; full-width
        browser = stack.browser()
        assert browser.sign_in(spelling).status_code == 200, spelling  # the form again, with its error
        assert not browser.signed_in()
        token = stack.api().post("/api/v1/auth/token/", json={"email": spelling, "password": PASSWORD})
        assert token.status_code in (400, 401) and "token" not in token.json(), (spelling, token.status_code)
    stack.assert_no_5xx()


# --- 4. Medium: API tokens lived forever.


def test_4_a_token_dies_with_a_password_change_sign_out_delete_and_reset_and_is_never_cached(stack, resident):
    alice = with_server_password(resident)
    new_password = "a-fresh-and-private-phrase-41"

    def me(token):
        return stack.api(token).get("/api/v1/me/")

    response = stack.api().post("/api/v1/auth/token/", json={"email": alice.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"] and response.headers["Pragma"] == "no-cache"
    token = response.json()["token"]
    assert me(token).status_code == 200

    # A new password, through the page.
    web = stack.sign_in(alice)
    changed = web.submit(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert changed.status_code == 302
    refused = me(token)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Token"

    # Signing out of the site ends every token.
    phone, laptop = stack.token(alice, new_password), stack.token(alice, new_password)
    assert me(phone).status_code == me(laptop).status_code == 200
    assert web.submit("/accounts/logout/", form="/dashboard/").status_code == 302
    assert me(phone).status_code == me(laptop).status_code == 401
    assert not web.signed_in()

    # DELETE signs the token out of the API.
    token = stack.token(alice, new_password)
    assert stack.api(token).delete("/api/v1/auth/token/").status_code == 204
    assert me(token).status_code == 401

    # A password reset, through the e-mailed link.
    token = stack.token(alice, new_password)
    browser = stack.browser()
    assert browser.submit("/accounts/password/reset/", {"email": alice.email}).status_code == 302
    [message] = stack.wait_for_mail(1)
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.get_body(("plain",)).get_content())
    opened = browser.get(link.group(1))
    assert opened.status_code == 302  # the token moves out of the URL, into the session
    reset = browser.submit(opened.headers["Location"], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert reset.status_code == 302
    assert me(token).status_code == 401
    stack.assert_no_5xx()


# --- 5. Medium: a search of 950 words tied up workers.


def test_5_a_search_of_950_words_is_refused_before_it_runs(stack, program, resident, attending, coordinator):
    from concurrent.futures import ThreadPoolExecutor

    alice, cora = with_server_password(resident, coordinator)
    # 950 different words of two characters: the whole request line stays under gunicorn's
    # limit (4094 bytes), so it is the application that answers, not the server in front of it.
    symbols = "abcdefghijklmnopqrstuvwxyz0123456789"
    words = [a + b for a in symbols for b in symbols][:950]
    nine_hundred_fifty, fifty = " ".join(words), " ".join(words[:50])
    alice_api, cora_api = stack.api(stack.token(alice)), stack.api(stack.token(cora))
    searches = [
        (alice_api, "/api/v1/mentors/", nine_hundred_fifty),
        (cora_api, f"/api/v1/programs/{program.slug}/audit/", fifty),
        (cora_api, f"/api/v1/programs/{program.slug}/roster/", fifty),
    ]
    for client, path, q in searches:
        response = client.get(path, params={"q": q})
        assert response.status_code == 400, (path, response.status_code)
        assert list(response.json()) == ["q"], path

    page = stack.sign_in(alice).get("/mentors/", params={"q": nine_hundred_fifty})
    assert page.status_code == 200 and 'id="id_q_error"' in page.text

    # Six at once, and a sign-in beside them.
    with ThreadPoolExecutor(max_workers=7) as pool:
        refused = [pool.submit(alice_api.get, "/api/v1/mentors/", params={"q": nine_hundred_fifty}) for _ in range(6)]
        signing_in = pool.submit(stack.browser().sign_in, cora.email)
        assert [f.result().status_code for f in refused] == [400] * 6
        assert signing_in.result().status_code == 302
    stack.assert_no_5xx()


# --- 6. Medium: large roster files held a worker until gunicorn killed it.


def test_6_an_oversize_roster_file_is_refused_with_a_clear_message_and_the_server_stays_up(stack, program, coordinator):
    cora = with_server_password(coordinator)
    web = stack.sign_in(cora)
    row = b"someone@hospital.example,Some,One,resident,PGY-1,,,\n"
    too_large = "The file is larger than the limit of 97.7\xa0KB"  # ROSTER_MAX_UPLOAD_BYTES, as people read it

    # 5 MB, refused by its declared length; 150 KB, within the envelope allowance, cut off as it streams.
    for size in (5 * 1024 * 1024, 150_000):
        body = ROSTER_HEADER.encode() + row * (size // len(row))
        response = web.submit(
            f"/programs/{program.slug}/roster/import/", files={"file": ("roster.csv", body, "text/csv")}
        )
        assert response.status_code == 400, (size, response.status_code)
        assert too_large in response.text, size

    # Within the size, over the row limit (ROSTER_MAX_ROWS, 1,000 here): refused whole, and its
    # preview is read from what was parsed at upload, however often it is viewed.
    invalid = "".join(f"bad-{i},,,nurse,,,,\n" for i in range(3_000))
    uploaded = upload_roster(web, program, ROSTER_HEADER + invalid)
    assert uploaded.status_code == 302
    for _ in range(3):
        preview = web.get(uploaded.headers["Location"])
        assert preview.status_code == 200
        assert "The file has more than 1,000 people in it" in preview.text
    uploaded = upload_roster(web, program, ROSTER_HEADER + invalid[: invalid.index("bad-900,")])
    for _ in range(3):
        preview = web.get(uploaded.headers["Location"])
        assert preview.status_code == 200 and "Nothing can be imported yet: " in preview.text

    assert web.get("/dashboard/").status_code == 200
    assert "WORKER TIMEOUT" not in stack.server_log()
    stack.assert_no_5xx()


# --- 7. Medium: a meeting in year 9999 was accepted, then broke every page that showed it.


def test_7_a_meeting_in_year_9999_is_refused_and_one_from_before_breaks_no_page(
    stack, program, resident, attending, coordinator
):
    from django.utils import timezone

    from audit.services import audit_log
    from core.bounds import SCHEDULED
    from matching.models import Meeting, MeetingSlot, Notification
    from tests.matching.factories import MentorshipFactory

    alice, carol, cora = with_server_password(resident, attending, coordinator)
    # East of UTC, where no clock fits the last minutes of year 9999.
    User.objects.filter(pk__in=[carol.pk, cora.pk]).update(time_zone="Asia/Tokyo")
    mentorship = MentorshipFactory(mentee=alice, mentor=carol, program=program)
    alice_api = stack.api(stack.token(alice))
    meetings = f"/api/v1/mentorships/{mentorship.pk}/meetings/"

    refused = alice_api.post(meetings, json={"slots": ["9999-12-31T23:30:00Z"]})
    assert refused.status_code == 400 and "slots" in refused.json()
    alice_web = stack.sign_in(alice)
    page = alice_web.submit(
        f"/mentorships/{mentorship.pk}/meetings/new/",
        {"custom_1": "9999-12-31T23:30", "duration_minutes": "30", "format": "video"},
    )
    assert (
        page.status_code in (200, 400) and SCHEDULED.message(alice.time_zone) in page.text
    )  # the form, with its error
    assert not Meeting.objects.exists()

    # Control: a time within the bounds is accepted, and Carol is e-mailed (by the worker) before
    # the notification is marked e-mailed; Alice gets her copy of the invitation too.
    soon = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    assert alice_api.post(meetings, json={"slots": [soon.isoformat()]}).status_code == 201
    proposed_mail = stack.wait_for_mail(2)
    assert sorted(message["To"] for message in proposed_mail) == sorted([alice.email, carol.email])
    assert Notification.objects.get(user=carol, event="meeting.proposed").emailed_at is not None

    # Rows written before the bounds (directly, as the old code accepted them): a confirmed
    # meeting, a proposed one, its audit entry, and an un-e-mailed notification of it.
    far = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    confirmed = Meeting.objects.create(mentorship=mentorship, proposed_by=alice, status="confirmed", start=far)
    proposed = Meeting.objects.create(mentorship=mentorship, proposed_by=alice)
    MeetingSlot.objects.create(meeting=proposed, start=far)
    audit_log(
        actor=alice,
        action="meeting.propose",
        obj=proposed,
        program=program,
        after={"status": "proposed", "slots": [far.isoformat()]},
    )
    Notification.objects.create(
        user=carol, event="meeting.confirmed", title="Your meeting", url="/", dedup_key="far-meeting", meeting=confirmed
    )

    carol_web, cora_web = stack.sign_in(carol), stack.sign_in(cora)
    carol_api, cora_api = stack.api(stack.token(carol)), stack.api(stack.token(cora))
    reads = [
        (carol_web, f"/meetings/{confirmed.pk}/"),
        (carol_web, f"/meetings/{proposed.pk}/"),
        (carol_web, f"/meetings/{confirmed.pk}/invite.ics"),
        (carol_web, f"/meetings/{proposed.pk}/invite.ics"),
        (carol_web, f"/mentorships/{mentorship.pk}/"),
        (carol_web, "/dashboard/"),
        (alice_web, f"/mentorships/{mentorship.pk}/"),
        (alice_web, "/dashboard/"),
        (cora_web, f"/programs/{program.slug}/audit/"),
        (cora_web, f"/programs/{program.slug}/audit/export.csv"),
        (carol_api, meetings),
        (carol_api, f"/api/v1/meetings/{confirmed.pk}/"),
        (carol_api, f"/api/v1/meetings/{confirmed.pk}/ics/"),
        (carol_api, f"/api/v1/meetings/{proposed.pk}/ics/"),
        (cora_api, f"/api/v1/programs/{program.slug}/audit/"),
    ]
    statuses = {path: client.get(path).status_code for client, path in reads}
    assert statuses == {path: 200 for _, path in reads}

    # Confirming the far time is refused, not a crash.
    confirm = carol_web.submit(
        f"/meetings/{proposed.pk}/confirm/", {"start": far.isoformat()}, form=f"/meetings/{proposed.pk}/"
    )
    assert confirm.status_code in (200, 400) and SCHEDULED.message("Asia/Tokyo") in confirm.text
    assert (
        carol_api.post(f"/api/v1/meetings/{proposed.pk}/confirm/", json={"start": far.isoformat()}).status_code == 400
    )
    assert Meeting.objects.get(pk=proposed.pk).status == "proposed"

    # The far meeting's e-mail goes out when the sweeper hands it to the worker, and only then
    # is it marked e-mailed.
    sweep = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from datetime import timedelta; from django.utils import timezone;"
            "from matching.notifications import notifications_email_unsent;"
            "print('swept', notifications_email_unsent(now=timezone.now() + timedelta(minutes=15)))",
        ],
        cwd=ROOT,
        env=service_env(**stack.env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sweep.returncode == 0 and "swept 1" in sweep.stdout, sweep.stdout + sweep.stderr
    mail = stack.wait_for_mail(3)
    # The invitation travels as the iTIP part of the multipart/alternative (matching/ics.py).
    assert mail[-1]["To"] == carol.email and any(
        part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST" for part in mail[-1].walk()
    )
    _wait_until(
        lambda: Notification.objects.filter(dedup_key="far-meeting", emailed_at__isnull=False).exists(),
        timeout=10,
        what="the far meeting's notification marked e-mailed",
    )
    stack.assert_no_5xx()


# --- 8. Low: over-long input gave 500 (value too long for type character varying(200)).


def test_8_over_long_titles_are_a_400_and_long_names_fit_their_notifications(stack, program, resident, attending):
    from matching.models import ActionItem, Notification, Resource
    from tests.matching.factories import MentorshipFactory

    # Carol's name at its columns' full length, quoted in the titles of the notifications Alice gets.
    User.objects.filter(pk=attending.pk).update(first_name="C" * 150, last_name="D" * 150)
    alice, carol = with_server_password(resident, attending)
    mentorship = MentorshipFactory(mentee=alice, mentor=carol, program=program)
    alice_api, carol_api = stack.api(stack.token(alice)), stack.api(stack.token(carol))
    goals = f"/api/v1/mentorships/{mentorship.pk}/action-items/"
    resources = f"/api/v1/mentorships/{mentorship.pk}/resources/"
    goal_limit = ActionItem._meta.get_field("title").max_length
    resource_limit = Resource._meta.get_field("title").max_length

    assert carol_api.post(goals, json={"title": "g" * 180, "owner": alice.pk}).status_code == 201
    assert carol_api.post(resources, json={"title": "r" * 180, "url": "https://example.org/p"}).status_code == 201
    over = alice_api.post(goals, json={"title": "g" * (goal_limit + 1)})
    assert over.status_code == 400 and "title" in over.json()
    over = carol_api.post(resources, json={"title": "r" * (resource_limit + 1), "url": "https://example.org/p"})
    assert over.status_code == 400 and "title" in over.json()
    page = stack.sign_in(alice).submit(
        f"/mentorships/{mentorship.pk}/action-items/",
        {"title": "g" * (goal_limit + 1), "owner": alice.pk},
        form=f"/mentorships/{mentorship.pk}/",
    )
    assert page.status_code in (200, 400) and f"at most {goal_limit} characters" in page.text

    assert ActionItem.objects.count() == Resource.objects.count() == 1
    title_limit = Notification._meta.get_field("title").max_length
    titles = list(Notification.objects.values_list("title", flat=True))
    assert len(titles) >= 2 and all(len(title) <= title_limit for title in titles), titles
    stack.assert_no_5xx()


# --- 9. Low: names leaked across programs through error messages.


def test_9_a_user_id_of_another_program_is_refused_without_its_name(
    stack, program, other_program, resident, attending, other_coordinator, outsider
):
    from accounts.models import Membership
    from matching.models import ConflictOfInterest, EvaluatorRole, PairingException
    from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory

    gina = UserFactory(first_name="Gina", last_name="Gray", email="gina@riverside.example")
    MembershipFactory(user=gina, program=other_program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=gina)
    alice, carol, oscar, olivia = with_server_password(resident, attending, other_coordinator, outsider)
    oscar_api = stack.api(stack.token(oscar))
    oscar_web = stack.sign_in(oscar)
    gs = f"/api/v1/programs/{other_program.slug}"
    pd = EvaluatorRole.Role.PROGRAM_DIRECTOR

    attempts = [
        oscar_api.post(f"{gs}/evaluator-roles/", json={"user_id": carol.pk, "role": pd}),
        oscar_api.post(f"{gs}/evaluator-roles/", json={"user_id": alice.pk, "role": pd}),
        oscar_api.post(f"{gs}/conflicts/", json={"mentee_id": alice.pk, "mentor_id": gina.pk, "reason": "Spouses"}),
        oscar_api.post(f"{gs}/conflicts/", json={"mentee_id": olivia.pk, "mentor_id": carol.pk, "reason": "Spouses"}),
        oscar_api.post(
            f"{gs}/pairing-exceptions/", json={"mentee_id": olivia.pk, "mentor_id": carol.pk, "reason": "Known"}
        ),
    ]
    page = f"/programs/{other_program.slug}/conflicts/"
    attempts += [
        oscar_web.submit(f"{page}role/add/", {"role-user": carol.pk, "role-role": pd}, form=page),
        oscar_web.submit(
            f"{page}conflict/add/", {"coi-mentee": alice.pk, "coi-mentor": gina.pk, "coi-reason": "Spouses"}, form=page
        ),
        oscar_web.submit(
            f"{page}exception/add/", {"exc-mentee": olivia.pk, "exc-mentor": carol.pk, "exc-reason": "Known"}, form=page
        ),
    ]
    for response in attempts:
        assert response.status_code == 400, (response.request.path_url, response.status_code)
        leaked = [secret for secret in names_of(alice, carol) if secret.lower() in response.text.lower()]
        assert not leaked, (response.request.path_url, leaked)
    assert not EvaluatorRole.objects.exists()
    assert not ConflictOfInterest.objects.exists() and not PairingException.objects.exists()
    stack.assert_no_5xx()


# --- 10. Low: a formula after a separator was exported; plain-text e-mails were HTML-escaped.


FORMULA_START = re.compile(r"(^|[,;|\t\r\n])[ \t\r\n]*[=+\-@]")


def test_10_a_formula_name_is_exported_harmless_and_plain_text_email_reads_as_typed(stack, program, coordinator):
    from accounts.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    program.name = "Obstetrics & Gynecology"
    program.save(update_fields=["name"])
    tom = UserFactory(first_name='Tom;=HYPERLINK("http://x")', last_name="Q")
    MembershipFactory(user=tom, program=program, role=Membership.Role.RESIDENT)
    cora_web = stack.sign_in(with_server_password(coordinator))

    export = cora_web.get(f"/programs/{program.slug}/roster/export.csv")
    assert export.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))) for cell in row]
    assert [cell for cell in cells if FORMULA_START.search(cell)] == []
    assert 'Tom;\'=HYPERLINK("http://x")' in cells  # still readable, neutralised

    # A new person with an apostrophe, invited to a program with an ampersand: the invitation's
    # text part and subject read as typed, its HTML part escapes.
    uploaded = upload_roster(
        cora_web, program, ROSTER_HEADER + "dandre@hospital.example,D'Andre,Lee,resident,PGY-1,,,\n"
    )
    assert cora_web.submit(uploaded.headers["Location"]).status_code == 302
    # Importing sends nothing; Cora sends D'Andre his invitation from the roster.
    from accounts.models import Membership

    dandre = Membership.objects.get(program=program, user__email="dandre@hospital.example")
    roster_url = f"/programs/{program.slug}/roster/"
    assert cora_web.submit(f"{roster_url}{dandre.pk}/invite/", form=roster_url).status_code == 302
    [message] = stack.wait_for_mail(1)
    assert message["To"] == "dandre@hospital.example"
    # (Django folds an encoded subject onto a second line; the parser keeps the fold's space.)
    assert message["Subject"].strip() == "You're invited to MentorMatch — Obstetrics & Gynecology"
    text = message.get_body(("plain",)).get_content()
    assert "Hello D'Andre," in text and "Obstetrics & Gynecology" in text
    assert "&#x27;" not in text and "&amp;" not in text
    assert "D&#x27;Andre" in message.get_body(("html",)).get_content()
    stack.assert_no_5xx()


# --- 11. Low: throttles keyed on X-Forwarded-For; password reset had no limit.


def test_11_rotating_x_forwarded_for_does_not_escape_the_token_throttle_and_resets_are_limited(stack, program):
    # Read in this process from the same settings module the server runs.
    from accounts.throttles import PasswordResetEmailThrottle, TokenClientThrottle
    from tests.factories import UserFactory

    limit = TokenClientThrottle().num_requests
    token_requests = []
    for n in range(limit + 1):
        # A different unknown address each time: what answers is the client's throttle.
        token_requests.append(
            stack.api().post(
                "/api/v1/auth/token/",
                json={"email": f"nobody{n}@x.example", "password": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
        )
    assert [r.status_code for r in token_requests] == [400] * limit + [429]
    assert int(token_requests[-1].headers["Retry-After"]) > 0

    lisa = with_server_password(UserFactory(email="lisa.sims@hospital.example"))
    spellings = [lisa.email, lisa.email.upper(), lisa.email.replace("s", "ſ")]
    browser = stack.browser()
    resets = [browser.submit("/accounts/password/reset/", {"email": spellings[n % 3]}) for n in range(6)]
    # Nothing tells the caller the limit was reached: every answer is "check your inbox".
    assert {(r.status_code, r.headers["Location"]) for r in resets} == {(302, "/accounts/password/reset/sent/")}
    mail = stack.mail()  # the server sends reset e-mails itself, before it answers
    assert len(mail) == PasswordResetEmailThrottle().num_requests < 6
    assert {m["To"] for m in mail} == {lisa.email}
    stack.assert_no_5xx()
