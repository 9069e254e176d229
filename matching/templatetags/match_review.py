"""The match review's "low score" rule and its rounding of scores for templates, and its mentor load
table, written in Python.

A large program's run has over a thousand mentors: the table's rows, each with half a dozen
numbers, were ~9,000 template variables (each localized) and most of the review page's time,
and of every accept's answer (htmx swaps the summary with the row). The markup is the template's
(``tests/matching/test_match_review_tags.py`` renders both)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..match_runs.selectors import MentorLoad, is_low_score, score_text

register = template.Library()


@register.filter
def low_score(score: float | None) -> bool:
    """The review's "Low" badge: ``is_low_score``, the rule its filter and summary count by."""
    return is_low_score(score)


@register.filter
def score(value: float | None, places: int = 0) -> str:
    """A score or fit as every match page shows it (``selectors.rounded``: halves up), "" for none:
    ``{{ p.fit|score }}``, ``{{ row.score_a|score:1 }}``. The CSV writes it the same way."""
    return score_text(value, int(places))


def _row(row: MentorLoad) -> str:
    # Plain f-strings: the numbers are ints, the name is escaped; format_html for each part of
    # 1,250 rows cost more than the template did.
    extra = f' <span class="muted small">(+{row.extra:d} for this match)</span>' if row.extra else ""
    active = f' <span class="muted small">({row.capacity:d} − {row.active:d} active)</span>' if row.active else ""
    if row.over:
        badge = ' <span class="badge badge-err">Over</span>'
    elif row.holding == row.spots:
        badge = ' <span class="badge">Full</span>'
    else:
        badge = ""
    over = ' class="over"' if row.over else ""
    return (
        f'<tr{over}>\n      <th scope="row">{escape(row.name)}</th>\n'
        f'      <td data-label="Spots">{row.spots:d}{extra}{active}</td>\n'
        f'      <td data-label="Taken">{row.holding:d}{badge}</td>\n'
        f'      <td data-label="Will pair">{row.will_pair:d}</td>\n'
        f'      <td data-label="Proposed">{row.proposed:d}</td>\n'
        "    </tr>"
    )


@register.simple_tag
def mentor_load_rows(rows: list[MentorLoad]) -> SafeString:
    """The table's ``<tr>`` rows, one per mentor."""
    return mark_safe("".join(_row(row) for row in rows))  # noqa: S308  (names escaped, the rest ints)
