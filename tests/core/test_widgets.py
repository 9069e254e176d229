"""Checkbox lists instead of Ctrl-click multi-selects (core/widgets.py), and subspecialties
that belong to the chosen specialty (issue 14). The filter itself: tests/browser/test_checklists.py."""

import pytest

from accounts.forms import MenteeProfileForm
from accounts.models import AcademicRank, Goal, Specialty
from matching.forms.profiles import MentorProfileForm

pytestmark = pytest.mark.django_db


def _mentor_data(**changes):
    data = {
        "specialty": Specialty.objects.get(slug="internal-medicine").pk,
        "academic_rank": AcademicRank.objects.first().pk,
        "capacity": 2,
        "accepting_mentees": "on",
    }
    data.update(changes)
    return data


def test_mentor_subspecialty_must_belong_to_the_specialty(attending):
    pediatric_cardiology = Specialty.objects.get(parent__slug="pediatrics", name="Pediatric Cardiology")
    form = MentorProfileForm(_mentor_data(subspecialty=pediatric_cardiology.pk), instance=attending.mentor_profile)
    assert not form.is_valid()
    assert form.errors["subspecialty"] == ["Pediatric Cardiology is not a subspecialty of Internal Medicine."]

    cardiology = Specialty.objects.get(parent__slug="internal-medicine", name="Cardiovascular Disease")
    form = MentorProfileForm(_mentor_data(subspecialty=cardiology.pk), instance=attending.mentor_profile)
    assert form.is_valid(), form.errors


def test_mentor_subspecialties_are_grouped_by_specialty_each_once(attending):
    html = str(MentorProfileForm(instance=attending.mentor_profile)["subspecialty"])
    assert 'data-narrow-by="id_specialty"' in html
    assert '<optgroup label="Internal Medicine">' in html
    # "Sports Medicine" belongs to three specialties: once in each group, never "X › Y" twice.
    assert html.count(">Sports Medicine</option>") == Specialty.objects.filter(name="Sports Medicine").count()
    assert "›" not in html


def test_mentor_long_lists_are_checkboxes_not_multi_selects(attending):
    form = MentorProfileForm(instance=attending.mentor_profile)
    html = str(form)
    assert "<select multiple" not in html and 'multiple=""' not in html
    assert str(form["expertise"]).count('type="checkbox"') == Goal.objects.count()
    assert "data-checklist" in str(form["expertise"])  # long enough for a filter box
    assert "data-checklist" not in str(form["meeting_formats"])  # three options: none


def test_mentee_fields_are_grouped_with_the_residents_specialty_first(resident):
    form = MenteeProfileForm(instance=resident.mentee_profile)
    groups = [group for group, _options in form.fields["subspecialty_interests"].choices]
    assert groups[0] == "Internal Medicine"  # the resident's program
    assert len(groups) == len(set(groups))
    values = [value for _group, options in form.fields["subspecialty_interests"].choices for value, _label in options]
    assert len(values) == len(set(values)) == Specialty.objects.filter(parent__isnull=False).count()
    html = str(form["subspecialty_interests"])
    assert 'data-checklist-start="Internal Medicine"' in html
    assert (
        '<fieldset class="checklist-group" data-checklist-group="Internal Medicine"><legend>Internal Medicine</legend>'
        in html
    )
    assert "Ctrl" not in form.fields["subspecialty_interests"].help_text


def test_mentee_form_saves_the_chosen_boxes(resident):
    profile = resident.mentee_profile
    nephrology = Specialty.objects.get(parent__slug="internal-medicine", name="Nephrology")
    research = Goal.objects.get(slug="research")
    data = {"career_stage": profile.career_stage_id, "subspecialty_interests": [nephrology.pk], "goals": [research.pk]}
    form = MenteeProfileForm(data, instance=profile)
    assert form.is_valid(), form.errors
    form.save()
    assert list(profile.subspecialty_interests.all()) == [nephrology]
    assert list(profile.goals.all()) == [research]
