"""``PlainSelect`` writes the markup Django's Select writes through its templates."""

import pytest
from django import forms

from core.widgets import ChecklistSelectMultiple, PlainChecklistSelectMultiple, PlainSelect

CHOICES = [("", "Any <mentor>"), (1, "Ana & Bo"), (2, 'Cy "Q"'), ("Group <g>", [(3, "x"), (4, "y")])]


@pytest.mark.parametrize("value", ["", "2", 2, None, "4", "nobody"])
def test_same_markup_as_select(value):
    attrs = {"id": "id_mentor", "class": "wide", "disabled": True, "data-off": False}
    assert PlainSelect(attrs=attrs, choices=CHOICES).render("mentor", value) == forms.Select(
        attrs=attrs, choices=CHOICES
    ).render("mentor", value)


def test_escapes_labels_and_marks_the_choice():
    html = PlainSelect(choices=CHOICES).render("mentor", "2")
    assert "Ana &amp; Bo" in html and "Any &lt;mentor&gt;" in html and 'label="Group &lt;g&gt;"' in html
    assert '<option value="2" selected>' in html and html.count("selected") == 1


def test_a_form_field_renders_through_it():
    field = forms.TypedChoiceField(choices=CHOICES, widget=PlainSelect, required=False)
    plain = forms.Form()
    plain.fields["mentor"] = field
    assert str(plain["mentor"]).startswith('<select name="mentor" id="id_mentor">')


CHECKLIST_CHOICES = [("a<", "A & b"), ("b", "B"), ("Group <g>", [("c", "C"), ("d", 'D "q"')])]


@pytest.mark.parametrize("value", [[], ["b"], ["c", "a<"], ["nobody"]])
@pytest.mark.parametrize("narrow", [{}, {"narrow_label": "Show <one>", "start_group": "Group <g>"}])
@pytest.mark.parametrize("choices", [CHECKLIST_CHOICES, [(str(k), f"Goal {k}") for k in range(9)]])
def test_plain_checklist_writes_the_checklist_templates_markup(value, narrow, choices):
    attrs = {"id": "id_goals", "class": "wide"}
    plain = PlainChecklistSelectMultiple(choices=choices, **narrow).render("goals", value, attrs=attrs)
    assert plain == ChecklistSelectMultiple(choices=choices, **narrow).render("goals", value, attrs=attrs)


def test_plain_checklist_checks_the_chosen_and_escapes():
    html = PlainChecklistSelectMultiple(choices=CHECKLIST_CHOICES).render("goals", ["c"], attrs={"id": "id_goals"})
    assert 'value="c" id="id_goals_2_0" checked>' in html and html.count("checked") == 1
    assert "A &amp; b" in html and 'data-checklist-group="Group &lt;g&gt;"' in html
