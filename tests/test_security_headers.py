"""Security headers on every response: a Content-Security-Policy that allows only our own
scripts and styles (the browser journeys fail on anything it refuses), framing denied."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


@pytest.mark.parametrize("name", ["accounts:login", "accounts:password_reset"])
def test_anonymous_pages_carry_a_strict_policy(client, name):
    response = client.get(reverse(name))
    policy = _policy(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_carry_it_too(client_for, coordinator, program):
    for url in (reverse("matching:dashboard"), reverse("matching:match-runs", args=[program.slug])):
        assert _policy(client_for(coordinator).get(url))["script-src"] == "'self'"


def test_the_api_docs_relax_only_inline_styles(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"
    body = response.content.decode()
    assert "<script>" not in body  # its start-up script is a separate file (?script=)
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_no_template_has_inline_script_or_style():
    """The policy refuses them; keep them out at the source. (E-mails are not pages: mail
    clients need inline styles.)"""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        if "email" in str(path.relative_to(root)):
            continue
        text = path.read_text()
        # <script> with a body (not src=, not a json_script data block), <style> blocks, style="…" attributes.
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style\b|\sstyle=\"", text):
            offenders.append(f"{path.relative_to(root)}: {match.group(0)}")
    assert offenders == []


def test_pages_and_api_answers_for_a_signed_in_person_are_not_stored(client_for, resident):
    client = client_for(resident)
    for url in (reverse("matching:dashboard"), "/api/v1/me/recommendations/", reverse("matching:notifications")):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, (url, response["Cache-Control"])
