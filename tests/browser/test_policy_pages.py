"""Pages outside the app's own templates still work under the Content-Security-Policy:
the API docs (Swagger UI) and the admin. The ``page`` fixture fails the test on anything
the policy refuses, any JavaScript error, or any request to another host."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_from_our_own_files(page, shot):
    page.goto("/api/docs/")
    expect(page.get_by_text("MentorMatch API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()  # the operations rendered from the schema
    # Swagger UI is a third-party developer tool, not one of our pages: axe finds serious
    # faults in its own markup (nested interactive controls, low-contrast method badges, no
    # lang on drf-spectacular's template) that no template or stylesheet of ours can reach.
    shot("api-docs", a11y=False)


def test_the_admin_works_under_the_policy(page, shot):
    admin = UserFactory(is_staff=True, is_superuser=True)
    # The admin's door is the site's sign-in page, which brings them back to the admin.
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Site administration")).to_be_visible()
    page.goto("/admin/accounts/program/add/")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    page.goto("/admin/audit/auditentry/")
    shot("admin-audit")
