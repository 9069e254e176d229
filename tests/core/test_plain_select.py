"""``PlainSelect`` writes the markup Django's Select writes through its templates."""

import pytest
from django import forms

from core.widgets import PlainSelect

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
