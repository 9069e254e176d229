"""Findings 2 and 3: look-alike e-mail addresses.

2. Importing ``gabrıela.ward@`` (dotless ı) beside ``gabriela.ward@`` made every sign-in of the
   real account answer 500 (``MultipleObjectsReturned``: PostgreSQL's case-insensitive match
   maps ı to I), ``admın@`` did the same to ``/admin/login/``, and the invitation went to the
   look-alike address.
3. After 5 failures an account is locked, but ``lısa.sims@`` and ``lisa.ſims@`` with the right
   password signed in: each Unicode spelling had its own 5 attempts.

Run on SQLite and on PostgreSQL (CI's second pass), where the 500 was.
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Membership, User
from accounts.roster import roster_import_apply, roster_import_preview, roster_parse
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def gabriela(program):
    user = UserFactory(email="gabriela.ward@hospital.example", first_name="Gabriela", last_name="Ward")
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    return user


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("admin@hospital.example", PASSWORD, first_name="Ada", last_name="Admin")


def _legacy_row(email):
    """A look-alike account as an older version could have stored it (bypassing today's checks)."""
    user = User(email=email, first_name="Look", last_name="Alike")
    user.set_password(PASSWORD)
    user.save()
    return user


# --- 2. The import refuses the look-alike; nothing is created, no invitation goes out.


@pytest.mark.parametrize("spoof", ["gabrıela.ward@hospital.example", "gаbriela.ward@hospital.example"])
def test_importing_a_look_alike_address_is_refused(program, coordinator, gabriela, spoof):
    data = HEADER + f"{spoof},Gabriela,Ward,resident,PGY-1,,,\n"

    preview = roster_parse(program=program, data=data.encode())

    # The Cyrillic а is not even a valid address; the dotless ı passes Django's validator
    # (which matches [A-Z] case-insensitively) and is caught as a look-alike.
    assert [(e.line, e.column) for e in preview.errors] == [(2, "email")]
    assert "Gabriela" not in preview.errors[0].message  # names nobody
    if "ı" in spoof:
        assert "looks like the address of an existing account" in preview.errors[0].message

    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="r.csv", data=data.encode()
    )
    with pytest.raises(ValidationError):
        roster_import_apply(roster_import=roster_import, actor=coordinator)
    assert User.objects.count() == 2 and mail.outbox == []


def test_two_look_alikes_in_one_file_are_refused(program, coordinator):
    data = (
        HEADER
        + "ann.lee@hospital.example,Ann,Lee,resident,PGY-1,,,\nаnn.lee@hospital.example,Ann,Lee,resident,PGY-1,,,\n"
    )

    preview = roster_parse(program=program, data=data.encode())

    assert [(e.line, e.column) for e in preview.errors] == [(3, "email")]


def test_an_exact_duplicate_in_another_spelling_is_the_same_person(program, coordinator, gabriela):
    """``GABRIELA.WARD@`` and ``gabriela.ward@`` are one key: the existing account, asked to join."""
    data = HEADER + "GABRIELA.WARD@hospital.example,Gabriela,Ward,faculty,,Internal Medicine,,\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == [] and [r.action for r in preview.rows] == ["invite"]


def test_creating_a_look_alike_account_is_refused_everywhere(superuser):
    with pytest.raises(ValidationError, match="looks like the address of an existing account"):
        User.objects.create_user("admın@hospital.example", "x-long-password-1")
    with pytest.raises(ValidationError, match="already exists"):
        User.objects.create_user("ADMIN@hospital.example", "x-long-password-1")
    assert User.objects.count() == 1


def test_the_database_holds_one_account_per_key(gabriela):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create(
            [User(email="Gabriela.Ward@hospital.example", **User.identity_fields("Gabriela.Ward@hospital.example"))]
        )


# --- 2. Even beside a look-alike row (from before the fix), the real account signs in.


def test_sign_in_beside_a_look_alike_row_works_on_the_page_and_the_api(client, gabriela):
    _legacy_row("gabrıela.ward@hospital.example")

    response = client.post(LOGIN, {"login": "gabriela.ward@hospital.example", "password": PASSWORD})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == gabriela.pk

    response = client.post(
        TOKEN, {"email": "Gabriela.Ward@hospital.example", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["token"]


def test_admin_sign_in_beside_a_look_alike_row_works(client, superuser):
    _legacy_row("admın@hospital.example")

    response = client.post(LOGIN, {"login": "admin@hospital.example", "password": PASSWORD})

    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == superuser.pk


def test_password_reset_goes_to_the_account_the_key_names_once(client, gabriela):
    spoof = _legacy_row("gabrıela.ward@hospital.example")

    client.post(reverse("accounts:password_reset"), {"email": "GABRIELA.WARD@hospital.example"})

    assert [m.to for m in mail.outbox] == [[gabriela.email]]
    mail.outbox.clear()
    client.post(reverse("accounts:password_reset"), {"email": spoof.email})
    assert [m.to for m in mail.outbox] == [[spoof.email]]  # the look-alike's own, never the real one's


# --- 3. Every spelling counts against the one account; a look-alike spelling opens nothing.


def _fail_five_times(client, email):
    for _ in range(5):
        client.post(LOGIN, {"login": email, "password": "wrong-password"})


@pytest.mark.parametrize(
    "spelling", ["lisa.ſims@hospital.example", "LISA.SIMS@hospital.example", "Lisa.Sims@hospital.example"]
)
def test_other_spellings_are_locked_out_with_the_account(client, program, spelling):
    UserFactory(email="lisa.sims@hospital.example")
    _fail_five_times(client, "lisa.sims@hospital.example")

    page = client.post(LOGIN, {"login": spelling, "password": PASSWORD})
    token = client.post(TOKEN, {"email": spelling, "password": PASSWORD}, content_type="application/json")

    assert page.status_code == 429 and "_auth_user_id" not in client.session
    assert token.status_code == 429


def test_a_look_alike_spelling_never_signs_in(client, program):
    UserFactory(email="lisa.sims@hospital.example")
    _fail_five_times(client, "lisa.sims@hospital.example")

    page = client.post(LOGIN, {"login": "lısa.sims@hospital.example", "password": PASSWORD})
    token = client.post(
        TOKEN, {"email": "lısa.sims@hospital.example", "password": PASSWORD}, content_type="application/json"
    )

    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert token.status_code in (400, 401) and "token" not in token.json()


def test_a_full_width_spelling_is_refused_as_malformed(client, program):
    """Full-width ``ｌｉｓａ`` folds to ``lisa`` (NFKC), but an e-mail field takes only ASCII
    before the @: the page and the API refuse it as malformed, before any password is tried."""
    UserFactory(email="lisa.sims@hospital.example")
    _fail_five_times(client, "lisa.sims@hospital.example")

    page = client.post(LOGIN, {"login": "ｌｉｓａ.sims@hospital.example", "password": PASSWORD})
    token = client.post(
        TOKEN, {"email": "ｌｉｓａ.sims@hospital.example", "password": PASSWORD}, content_type="application/json"
    )

    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert token.status_code == 400 and "token" not in token.json()


def test_spellings_share_one_failure_counter(client, program):
    UserFactory(email="lisa.sims@hospital.example")
    for spelling in ["lisa.sims@", "LISA.sims@", "lisa.ſims@", "LISA.ſIMS@", "Lisa.Sims@"]:
        client.post(LOGIN, {"login": spelling + "hospital.example", "password": "wrong-password"})

    assert client.post(LOGIN, {"login": "lisa.sims@hospital.example", "password": PASSWORD}).status_code == 429


def test_the_admin_refuses_a_look_alike_account_with_a_form_error(client, superuser):
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "admın@hospital.example",
            "first_name": "Look",
            "last_name": "Alike",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "usable_password": "true",
        },
    )

    assert response.status_code == 200
    assert "looks like the address of an existing account" in response.content.decode()
    assert User.objects.count() == 1
