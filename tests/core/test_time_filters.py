"""Issue 15: one way to show a time to a person. ``moment`` ("Sat 5 Dec 2026, 14:30 EST"),
``day`` ("5 Dec 2026") and ``clock`` ("14:30 EST") in matching/templatetags/zones.py, on the
active zone's clock (the viewer's on a page, the recipient's in an e-mail), and never failing
on a stored year-9999 instant. Templates use them, not a raw ``|date:`` format."""

import re
import zoneinfo
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from core.bounds import LATEST_INSTANT, format_instant

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
WINTER = datetime(2026, 12, 5, 19, 30, tzinfo=UTC)  # 14:30 in New York (EST)
SUMMER = datetime(2026, 7, 1, 18, 30, tzinfo=UTC)  # 14:30 in New York (EDT)


def render(text: str, zone=None, **context) -> str:
    template = Template("{% load zones %}" + text)
    if zone is None:
        return template.render(Context(context))
    with timezone.override(zone):
        return template.render(Context(context))


def test_moment_shows_the_instant_on_the_active_zones_clock_with_its_abbreviation():
    assert render("{{ when|moment }}", NEW_YORK, when=WINTER) == "Sat 5 Dec 2026, 14:30 EST"
    assert render("{{ when|moment }}", TOKYO, when=WINTER) == "Sun 6 Dec 2026, 04:30 JST"


def test_moment_follows_daylight_saving_time():
    assert render("{{ when|moment }}", NEW_YORK, when=SUMMER) == "Wed 1 Jul 2026, 14:30 EDT"


def test_clock_tells_apart_the_hour_shown_twice_when_clocks_go_back():
    # 1 November 2026: New York's clocks go back from 2:00 EDT to 1:00 EST; 01:30 happens twice.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)

    assert render("{{ a|clock }} / {{ b|clock }}", NEW_YORK, a=first, b=second) == "01:30 EDT / 01:30 EST"


def test_moment_takes_another_persons_zone():
    text = render("{{ when|moment:theirs }}", NEW_YORK, when=WINTER, theirs="Europe/Madrid")

    assert text == "Sat 5 Dec 2026, 20:30 CET"


def test_moment_says_what_the_services_say():
    # A notification's body (format_instant) and the page showing the same instant agree.
    assert render("{{ when|moment }}", NEW_YORK, when=SUMMER) == format_instant(SUMMER, NEW_YORK)


def test_day_is_the_instants_date_on_the_active_zones_clock():
    late_evening_in_new_york = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

    assert render("{{ when|day }}", NEW_YORK, when=late_evening_in_new_york) == "5 Dec 2026"
    assert render("{{ when|day }}", UTC, when=late_evening_in_new_york) == "6 Dec 2026"


def test_day_shows_a_date_as_it_is():
    assert render("{{ due|day }}", TOKYO, due=date(2027, 3, 1)) == "1 Mar 2027"


@pytest.mark.parametrize("zone", [TOKYO, NEW_YORK, UTC])
def test_year_9999_is_shown_as_stored_instead_of_failing_the_page(zone):
    when = LATEST_INSTANT.replace(second=0, microsecond=0)  # 9999-12-31 23:59 UTC

    text = render("{{ when|moment }} | {{ when|day }} | {{ when|clock }}", zone, when=when)

    if zone is TOKYO:  # east of UTC: no clock of the zone can show it
        assert text == "Fri 31 Dec 9999, 23:59 UTC | 31 Dec 9999 | 23:59 UTC"
    else:
        assert text.startswith("Fri 31 Dec 9999, ")


def test_a_missing_value_shows_nothing():
    assert render("[{{ when|moment }}][{{ when|day }}][{{ when|clock }}]", NEW_YORK, when=None) == "[][][]"


def test_the_digest_email_shows_times_on_the_recipients_clock():
    # Rendered by a task, with no active zone but the site's: the template activates the recipient's.
    recipient = SimpleNamespace(first_name="Ana", email="ana@example.org", time_zone="Asia/Tokyo")
    notification = SimpleNamespace(title="Meeting confirmed", body="", url="", created_at=WINTER)

    text = render_to_string("matching/email/digest.txt", {"user": recipient, "notifications": [notification]})

    assert "Sun 6 Dec 2026, 04:30 JST" in text


# --- The rule holds: templates show dates and times through the filters.

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Formats a machine reads: ISO 8601 in ``datetime=`` attributes, ``Y-m-d`` in links and inputs.
MACHINE_FORMATS = {"c", "Y-m-d"}
# Templates allowed a raw display format, with the reason. Keep it empty if you can.
ALLOWED: dict[str, str] = {}
RAW_FORMAT = re.compile(r"""\|(?:date|time):(?P<q>["'])(?P<format>[^"']*)(?P=q)""")


def _raw_formats(root: Path = TEMPLATES) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in {".html", ".txt"} or str(path.relative_to(root)) in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in RAW_FORMAT.finditer(line):
                if match["format"] not in MACHINE_FORMATS:
                    found.append(f"{path.relative_to(root)}:{number}: {match[0]}")
    return found


def test_no_template_shows_a_date_or_time_with_a_raw_format():
    assert _raw_formats() == [], (
        "Show an instant with |moment, a date with |day, a time beside a day with |clock "
        "(matching/templatetags/zones.py); |date:'c' and |date:'Y-m-d' are for machines."
    )


def test_the_check_finds_a_raw_time_format(tmp_path):
    # Control: the scan above is not vacuous.
    (tmp_path / "page.html").write_text('{{ a|date:"c" }} {{ b|date:"M j, Y H:i" }} {{ c|time:"H:i" }}\n')

    assert _raw_formats(tmp_path) == ['page.html:1: |date:"M j, Y H:i"', 'page.html:1: |time:"H:i"']


def test_days_the_services_write_read_as_the_pages_day():
    """Dates in messages the services write (reminders, goals' due dates, nudges) use the pages' rule."""
    from core.bounds import format_day
    from matching.templatetags.zones import day

    assert format_day(date(2026, 12, 5)) == day(date(2026, 12, 5)) == "5 Dec 2026"
