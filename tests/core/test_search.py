"""Searches ignore accents both ways (issue 14): "Nguyen" finds "Nguyễn" and "Nguyễn" finds
"Nguyen", in the mentor directory and on the roster, on SQLite and PostgreSQL alike."""

import pytest

from accounts.filters import MentorDirectoryFilter
from accounts.selectors import roster_search
from core.search import fold
from matching.selectors.directory import mentor_directory

pytestmark = pytest.mark.django_db


def test_fold_drops_accents_and_case():
    assert fold("Nguyễn Thị Đặng") == "nguyen thi dang"
    assert fold("ÉLODIE Øster Łukasz Müller") == "elodie oster lukasz muller"
    assert fold("plain") == "plain"


@pytest.fixture
def nguyens(attending, other_attending):
    """Two mentors, one spelled with Vietnamese marks, one without."""
    attending.last_name, attending.first_name = "Nguyễn", "Thảo"
    attending.save(update_fields=["last_name", "first_name"])
    other_attending.last_name = "Nguyen"
    other_attending.save(update_fields=["last_name"])
    return attending, other_attending


def _directory(q):
    found = MentorDirectoryFilter({"q": q}, queryset=mentor_directory())
    assert found.form.is_valid(), found.form.errors
    return {profile.user for profile in found.qs}


@pytest.mark.parametrize("q", ["nguyen", "NGUYEN", "Nguyễn", "nguyễn"])
def test_directory_finds_both_spellings(nguyens, q):
    assert _directory(q) == set(nguyens)


def test_directory_words_without_marks_find_names_with_them(nguyens):
    accented, plain = nguyens
    assert _directory("thao nguyen") == {accented}
    assert _directory("Thảo") == {accented}
    assert _directory("dave nguyễn") == {plain}


def test_directory_search_still_narrows(nguyens, attending):
    attending.mentor_profile.bio = "Cardiología and echo; café chats."
    attending.mentor_profile.save(update_fields=["bio"])
    assert _directory("cardiologia") == {attending}
    assert _directory("cafe") == {attending}
    assert _directory("nguyen zzz") == set()


def test_roster_search_ignores_accents_both_ways(program, nguyens, resident):
    resident.last_name = "Đoàn"
    resident.save(update_fields=["last_name"])

    def roster(q):
        return {m.user for m in roster_search(program, q=q)}

    assert roster("nguyen") == set(nguyens)
    assert roster("Nguyễn") == set(nguyens)
    assert roster("doan") == {resident}
    assert roster("ĐOÀN") == {resident}
