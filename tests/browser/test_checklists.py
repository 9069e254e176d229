"""Issue 14: long vocabularies are checkbox lists with a filter (core/widgets.py,
static/js/checklist.js), not Ctrl-click multi-selects; subspecialties narrow to the chosen
specialty; without JavaScript the plain checkboxes still work."""

import re

import pytest

from accounts.models import AcademicRank, Interest, Language, Specialty
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shown(page, list_id):
    return page.locator(f"#{list_id} li:visible").all_inner_texts()


def test_resident_filters_and_narrows_and_the_profile_saves(page, shot, resident):
    log_in(page, resident.email, PASSWORD)
    page.goto("/profile/mentee/")

    # The filter ignores case and accents: "vietnamése" finds Vietnamese.
    page.get_by_label("Find in languages").fill("vietnamése")
    assert [t.strip() for t in _shown(page, "id_languages")] == ["Vietnamese"]
    count = page.locator("#id_languages").locator("xpath=preceding-sibling::div[1]").get_by_role("status")
    total = Language.objects.count()
    page.wait_for_function(
        "([el, total]) => el.textContent.startsWith(`1 of ${total} shown`)", arg=[count.element_handle(), total]
    )
    page.get_by_label("Vietnamese").check()
    # Filtering hides; it never unchooses: clearing the filter shows every language again.
    page.get_by_label("Find in languages").fill("span")
    assert page.get_by_label("Vietnamese").is_checked()
    page.get_by_label("Spanish").check()
    page.get_by_label("Find in languages").fill("")
    assert len(_shown(page, "id_languages")) == total

    page.get_by_label("Find in interests").fill("cárdio")
    assert [t.strip() for t in _shown(page, "id_interests")] == ["Cardiology"]
    page.get_by_label("Cardiology", exact=True).check()

    # Fields: the resident's own specialty (Internal Medicine) first and alone.
    narrow = page.get_by_label("Specialty", exact=True)
    assert narrow.input_value() == "Internal Medicine"
    groups = page.locator("#id_subspecialty_interests .checklist-group:visible legend").all_inner_texts()
    assert groups == ["Internal Medicine"]
    im_names = set(Specialty.objects.filter(parent__name="Internal Medicine").values_list("name", flat=True))
    assert {t.strip() for t in _shown(page, "id_subspecialty_interests")} == im_names
    # Another specialty, then all: each subspecialty once in its own specialty's group.
    narrow.select_option("Pediatrics")
    assert page.locator("#id_subspecialty_interests .checklist-group:visible legend").all_inner_texts() == [
        "Pediatrics"
    ]
    narrow.select_option(label="All")
    page.get_by_label("Find in fields you are considering").fill("sports")
    sports = page.locator("#id_subspecialty_interests .checklist-group:visible")
    assert sorted(sports.locator("legend").all_inner_texts()) == sorted(
        Specialty.objects.filter(name__icontains="sports").values_list("parent__name", flat=True)
    )
    for group in sports.all():
        assert group.locator("li:visible").count() == 1
    sports.filter(has_text="Family Medicine").get_by_label("Sports Medicine").check()
    shot("mentee-profile-filtered")

    page.get_by_role("button", name="Save").click()
    page.get_by_text("is saved").wait_for()
    profile = resident.mentee_profile
    assert set(profile.languages.values_list("code", flat=True)) == {"vi", "es"}
    assert list(profile.interests.values_list("name", flat=True)) == ["Cardiology"]
    assert [(s.parent.name, s.name) for s in profile.subspecialty_interests.select_related("parent")] == [
        ("Family Medicine", "Sports Medicine")
    ]


def test_mentor_subspecialty_narrows_to_the_chosen_specialty(page, shot, attending):
    cardiology = Specialty.objects.get(parent__name="Internal Medicine", name="Cardiovascular Disease")
    attending.mentor_profile.subspecialty = cardiology
    attending.mentor_profile.academic_rank = AcademicRank.objects.first()
    attending.mentor_profile.save(update_fields=["subspecialty", "academic_rank"])
    log_in(page, attending.email, PASSWORD)
    page.goto("/profile/mentor/")

    subspecialty = page.locator("#id_subspecialty")
    shown = subspecialty.locator("optgroup:not([disabled])")
    assert shown.evaluate_all("gs => gs.map(g => g.label)") == ["Internal Medicine"]
    assert subspecialty.input_value() == str(cardiology.pk)

    # Another specialty: its subspecialties only, and the old choice, which no longer fits, is cleared.
    page.locator("#id_specialty").select_option(label="Pediatrics")
    assert shown.evaluate_all("gs => gs.map(g => g.label)") == ["Pediatrics"]
    assert subspecialty.input_value() == ""
    subspecialty.select_option(label="Pediatric Cardiology")
    page.get_by_label("Find in goals you can help with").fill("research")
    page.locator("#id_expertise").get_by_label("Research", exact=True).check()
    shot("mentor-profile-narrowed")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("is saved").wait_for()

    profile = attending.mentor_profile
    profile.refresh_from_db()
    assert (profile.specialty.name, profile.subspecialty.parent.name, profile.subspecialty.name) == (
        "Pediatrics",
        "Pediatrics",
        "Pediatric Cardiology",
    )
    assert list(profile.expertise.values_list("slug", flat=True)) == ["research"]


def test_without_javascript_the_checkboxes_still_work(browser, live_server, resident):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, resident.email, PASSWORD)
        page.goto("/profile/mentee/")
        assert page.locator(".checklist-tools").count() == 0  # no filter without the script
        page.get_by_label("Telemedicine").check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/profile/$"))
        assert list(resident.mentee_profile.interests.all()) == [Interest.objects.get(name="Telemedicine")]
    finally:
        context.close()


def test_on_a_phone_the_directorys_filters_fold_so_mentors_come_first(page, resident, attending):
    log_in(page, resident.email, PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/mentors/")
    filters = page.locator("details[data-fold-on-phone]")
    assert filters.evaluate("d => d.open") is False
    card = page.locator("article.mentor-card").first
    assert card.bounding_box()["y"] < 844  # the first mentor is on the first screen
    page.get_by_text("Filters", exact=True).click()
    assert page.get_by_role("button", name="Filter").is_visible()
    # On a wide screen the filters stay open.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/mentors/")
    assert filters.evaluate("d => d.open") is True
