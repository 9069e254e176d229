"""The review's mentor load rows, written in Python (``matching.templatetags.match_review``), are
the markup the template wrote: every badge and note, and names escaped."""

from django.template import Context, Template

from matching.match_runs.selectors import MentorLoad

# The rows as ``_summary.html`` rendered them before the tag.
TEMPLATE_ROWS = Template(
    """{% for row in rows %}<tr{% if row.over %} class="over"{% endif %}>
      <th scope="row">{{ row.name }}</th>
      <td data-label="Spots">{{ row.spots }}{% if row.extra %} <span class="muted small">(+{{ row.extra }} for this match)</span>{% endif %}{% if row.active %} <span class="muted small">({{ row.capacity }} − {{ row.active }} active)</span>{% endif %}</td>
      <td data-label="Taken">{{ row.holding }}{% if row.over %} <span class="badge badge-err">Over</span>{% elif row.holding == row.spots %} <span class="badge">Full</span>{% endif %}</td>
      <td data-label="Will pair">{{ row.will_pair }}</td>
      <td data-label="Proposed">{{ row.proposed }}</td>
    </tr>{% endfor %}"""
)
TAG_ROWS = Template("{% load match_review %}{% mentor_load_rows rows %}")


def _load(name, *, capacity=2, active=0, extra=0, proposed=1, holding=1, will_pair=0):
    spots = max(capacity - active, 0) + extra
    return MentorLoad(1, name, capacity, active, extra, spots, proposed, holding, will_pair)


def test_the_rows_are_the_templates_markup():
    rows = [
        _load("Ana <b>Lopez</b> & Co"),  # escaped, room left: no badge
        _load("Bo Li", capacity=1, holding=1, will_pair=1),  # full
        _load("Cy Ng", capacity=3, active=2, extra=1, holding=3, proposed=3),  # over, with extra and active notes
        _load("Di O'Neil", capacity=0, holding=0, proposed=0),  # no spots, none held: full
    ]
    context = Context({"rows": rows})
    assert TAG_ROWS.render(context) == TEMPLATE_ROWS.render(context)
    assert "&lt;b&gt;Lopez&lt;/b&gt; &amp; Co" in TAG_ROWS.render(context)
    assert TAG_ROWS.render(context).count('class="over"') == 1


def test_no_mentors_no_rows():
    assert TAG_ROWS.render(Context({"rows": []})) == ""
