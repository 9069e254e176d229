"""Browser journeys: Debian's Chromium driven by Playwright against a live server.

Playwright cannot download its own browsers here, so we launch /usr/bin/chromium.
Without it the journeys skip and say why, unless MENTORMATCH_REQUIRE_BROWSER=1 (set by
.ci/run), where a missing browser fails the run instead.
"""

import functools
import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MENTORMATCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
REQUIRED = os.environ.get("MENTORMATCH_REQUIRE_BROWSER") == "1"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Screenshots are for people to look at; .ci/run, where nobody looks, sets 0 and saves the time.
# The checks a screenshot step also runs (axe, layout) run either way.
SCREENSHOTS = os.environ.get("MENTORMATCH_SCREENSHOTS", "1") != "0"
# axe's impact levels, mildest first: these two fail a journey, the others are reported.
BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set MENTORMATCH_CHROMIUM)"
    for item in items:
        if "browser" in item.keywords:
            if REQUIRED:
                item.add_marker(pytest.mark.xfail(reason=reason, run=False, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the ORM calls the test
    # makes between page actions are ordinary synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def other_origins():
    """Origins besides the live server that a test's pages may reach: a test identity
    provider's (tests/idp/). Everything else stays blocked."""
    return []


@pytest.fixture
def page(browser, live_server, request, other_origins):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = []

    # Nothing may load from another host: no CDN, no fonts, no analytics. Watched, not
    # intercepted: routing every request through Playwright (browser → driver → this process
    # and back) costs each page load round trips. The Content-Security-Policy refuses other
    # hosts as well (``refused`` below); this names any request for one.
    def watch(request):
        if not request.url.startswith((live_server.url, "data:", *other_origins)):
            blocked.append(request.url)

    page.on("request", watch)
    errors, refused = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The Content-Security-Policy reports what it refused on the console: any refusal is a bug.
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert blocked == [], f"pages tried to load from other hosts: {blocked}"
    assert errors == [], f"JavaScript errors: {errors}"
    assert refused == [], f"the Content-Security-Policy refused: {refused}"


@functools.cache
def _axe_source():
    return AXE.read_text(encoding="utf-8")


def check_a11y(page, name):
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    The source is evaluated from the driver (the DevTools protocol), which the page's
    Content-Security-Policy does not govern, so axe runs under the same policy users get
    and no inline script tag is needed. Minor and moderate findings are printed only.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    lines, blocking = [], []
    for violation in results["violations"]:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        line = f"[{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"
        lines.append(line)
        if violation["impact"] in BLOCKING_IMPACTS:
            blocking.append(line)
    if lines:
        print(f"axe on {name} ({page.url}):\n  " + "\n  ".join(lines))
    assert blocking == [], f"accessibility violations on {name} ({page.url}):\n  " + "\n  ".join(blocking)
    return results["violations"]


@pytest.fixture
def shot(page, request):
    """``shot("step-name")`` saves a full-page screenshot under artifacts/screenshots/<test>/
    and checks the page with axe-core, so every step a journey records is also audited;
    ``shot(name, a11y=False)`` skips the audit (for pages that are not ours)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(name, *, a11y=True):
        path = folder / f"{next(counter):02d}-{name}.png"
        if SCREENSHOTS:
            page.screenshot(path=str(path), full_page=True)
        if a11y:
            check_a11y(page, name)
        return path

    return take


def htmx_ready(locator):
    """Wait until htmx has bound the element (a fragment it just swapped in): a change made before
    that would be lost, which a person never is fast enough to do but Playwright is."""
    locator.evaluate(
        "el => new Promise(ok => { const go = () => el['htmx-internal-data'] ? ok() : setTimeout(go, 10); go(); })"
    )


def log_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
