"""Issue 11, finding 8 (the model/form/serializer half): over-long input gives 500.

On PostgreSQL a 180-character resource or goal title answered 500 (``value too long for type
character varying(200)``); SQLite ignores lengths and kept it whole. The rule now: every text
field takes its max length from the model column it lands in (ModelForm / ModelSerializer, or
``core.forms.max_length_of``), so a page, the API and the database refuse the same text.

The API cases are derived, not listed: every writable operation of the OpenAPI schema whose
body has a string with a ``maxLength``, sent with the valid body of its field-tampering case
(tests/security/test_field_tampering.py, which has one for every writable operation). One
character over the limit is a 400 naming the field; exactly the limit succeeds, and no row
written holds a value longer than its column (the check that SQLite cannot make for us).
Composed strings (a notification's title quoting the goal) must fit too: notify() fits them.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from accounts.models import BusyBlock
from matching.models import ActionItem, Meeting, Resource
from matching.services.conflicts import REASON_MAX_LENGTH
from tests.factories import UserFactory

from ..conftest import snapshot
from ..routes import api_operations, schema
from ..test_field_tampering import CASES
from ..world_args import api_kwargs

pytestmark = pytest.mark.django_db

ALICE, CAROL, CORA = "resident", "attending", "coordinator"


def _resolve(node):
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _bounded_text_fields(operation) -> dict[str, dict]:
    """The writable string properties of the operation's JSON body that have a maxLength."""
    content = operation.get("requestBody", {}).get("content", {})
    body = _resolve(content.get("application/json", {}).get("schema", {}))
    return {
        name: prop
        for name, prop in body.get("properties", {}).items()
        if prop.get("type") == "string" and "maxLength" in prop and not prop.get("readOnly")
    }


def _text(prop, length):
    """A valid value of exactly ``length`` characters."""
    if prop.get("format") == "uri":
        prefix = "https://example.org/"
        return prefix + "a" * (length - len(prefix))
    return "x" * length


def _api_cases():
    cases = []
    for (path, method), operation in sorted(api_operations().items()):
        ok = [c for c in CASES.get((path, method), []) if c.status == "ok"]
        for name in _bounded_text_fields(operation) if ok else ():
            cases.append((path, method, name))
    return cases


def _overlong_values() -> list[str]:
    """Every stored value longer than its model field allows (SQLite would keep it)."""
    found = []
    for table, rows in snapshot().items():
        model = next(m for m in apps.get_models() if m.__name__ == table)
        limits = {f.attname: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}
        for row in rows:
            for column, limit in limits.items():
                value = row.get(column)
                if isinstance(value, str) and len(value) > limit:
                    found.append(f"{table} {row.get('id', row.get('pk'))}.{column}: {len(value)} > {limit}")
    return found


def _send(world, case, method, url, body):
    # "If-Match: *" for the shared texts (World.api): the length is the question here, not a version.
    return world.api(case.role, method, url, body)


def test_the_derived_list_covers_what_the_issue_names():
    covered = {(path, name) for path, _, name in _api_cases()}
    for expected in [
        ("/api/v1/mentorships/{id}/resources/", "title"),
        ("/api/v1/mentorships/{id}/action-items/", "title"),
        ("/api/v1/action-items/{id}/", "title"),
        ("/api/v1/mentorships/{id}/meetings/", "location"),
        ("/api/v1/programs/{slug}/conflicts/", "reason"),
        ("/api/v1/programs/{slug}/pairing-exceptions/", "reason"),
    ]:
        assert expected in covered, expected


@pytest.mark.parametrize("path,method,field", _api_cases(), ids=str)
def test_an_api_text_one_over_its_column_is_a_400_and_exactly_its_column_is_stored(world, path, method, field):
    operation = api_operations()[(path, method)]
    prop = _bounded_text_fields(operation)[field]
    limit = prop["maxLength"]
    case = next(c for c in CASES[(path, method)] if c.status == "ok")
    if case.setup:
        case.setup(world)
    url = case.path_args(world) if case.path_args else api_kwargs(path, world)
    body = case.body(world)
    before = snapshot()

    over = _send(world, case, method, url, {**body, field: _text(prop, limit + 1)})

    assert over.status_code == 400, (over.status_code, over.content[:300])
    assert field in over.json(), over.json()
    assert {t: r for t, r in snapshot().items() if t not in ("AuditEntry", "Notification")} == {
        t: r for t, r in before.items() if t not in ("AuditEntry", "Notification")
    }

    exact = _send(world, case, method, url, {**body, field: _text(prop, limit)})

    assert 200 <= exact.status_code < 300, (exact.status_code, exact.content[:300])
    assert not _overlong_values(), _overlong_values()


# --- Pages: the same limits, beside the field.


def _length(model, name):
    return model._meta.get_field(name).max_length


def _in_days_local(user, days):
    when = timezone.now().astimezone(ZoneInfo(user.time_zone)) + timedelta(days=days)
    return when.replace(hour=15, minute=0).strftime("%Y-%m-%d %H:%M")


PAGE_CASES = {
    # name: (role, url(w), body(w, text), the form in the page's context, its field, the limit)
    "goal": (
        ALICE,
        lambda w: reverse("matching:action-item-create", args=[w.mentorship.pk]),
        lambda w, text: {"title": text, "owner": w.users[CAROL].pk},
        "action_item_form",
        "title",
        _length(ActionItem, "title"),
    ),
    "resource": (
        CAROL,
        lambda w: reverse("matching:resource-create", args=[w.mentorship.pk]),
        lambda w, text: {"title": text, "url": "https://example.org/p"},
        "resource_form",
        "title",
        _length(Resource, "title"),
    ),
    "meeting place": (
        ALICE,
        lambda w: reverse("matching:meeting-propose", args=[w.mentorship.pk]),
        lambda w, text: {
            "custom_1": _in_days_local(w.users[ALICE], 5),
            "duration_minutes": "30",
            "format": "in-person",
            "location": text,
        },
        "form",
        "location",
        _length(Meeting, "location"),
    ),
    "conflict reason": (
        CORA,
        lambda w: reverse("matching:conflicts-add", args=[w.im.slug, "conflict"]),
        lambda w, text: {
            "coi-mentee": w.users[ALICE].pk,
            "coi-mentor": w.users["other_attending"].pk,
            "coi-reason": text,
        },
        "conflict_form",
        "reason",
        REASON_MAX_LENGTH,
    ),
}


@pytest.mark.parametrize("name", sorted(PAGE_CASES), ids=str)
def test_a_page_text_one_over_its_column_is_a_form_error_and_exactly_its_column_is_saved(world, name):
    role, url, body, form_name, field, limit = PAGE_CASES[name]
    client = world.client(role)

    over = client.post(url(world), body(world, "x" * (limit + 1)))

    assert over.status_code in (200, 400), over.status_code  # the form again, not a redirect
    assert field in over.context[form_name].errors, over.context[form_name].errors

    exact = client.post(url(world), body(world, "x" * limit))

    assert exact.status_code == 302, exact.status_code
    assert not _overlong_values(), _overlong_values()


def test_a_busy_block_label_one_over_its_column_is_refused_in_the_admin(world):
    """Busy blocks are written only in the admin (and the demo): its form is the model's."""
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = world.client("anonymous").__class__()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    limit = _length(BusyBlock, "label")
    start = timezone.localdate() + timedelta(days=7)
    body = {"user": world.users[ALICE].pk, "start_date": start.isoformat(), "end_date": start.isoformat()}
    url = reverse("admin:accounts_busyblock_add")

    over = client.post(url, {**body, "label": "x" * (limit + 1)})
    exact = client.post(url, {**body, "label": "x" * limit})

    assert over.status_code == 200 and "label" in over.context["adminform"].form.errors
    assert exact.status_code == 302
    assert BusyBlock.objects.filter(user=world.users[ALICE], label="x" * limit).exists()
