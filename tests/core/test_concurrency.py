"""core/concurrency.py: versions compared under the lock, ETag out and If-Match in."""

from types import SimpleNamespace

import pytest
from django import forms
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.concurrency import (
    EditConflict,
    PreconditionFailed,
    PreconditionRequired,
    VersionField,
    check_version,
    etag_of,
    if_match_version,
    keep_for_second_save,
    stale_response,
)


class Row(SimpleNamespace):
    """Stands for a model row: check_version only reads ``version``."""


def _request(if_match=None):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return Request(APIRequestFactory().patch("/x/", **headers))


class TestCheckVersion:
    def test_none_skips_the_comparison(self):
        check_version(Row(version=7), None)

    def test_the_same_version_passes(self):
        check_version(Row(version=3), 3)
        check_version(Row(version=3), "3")  # as a form or header gives it

    @pytest.mark.parametrize("stale", [2, 4, "2", "abc", "", 3.5])
    def test_any_other_version_is_a_conflict(self, stale):
        row = Row(version=3)
        with pytest.raises(EditConflict) as caught:
            check_version(row, stale)
        assert caught.value.current is row
        assert caught.value.code == "edit_conflict"

    def test_the_editor_is_named_and_asked_only_on_a_conflict(self):
        asked = []

        def editor():
            asked.append(1)
            return SimpleNamespace(full_name="Carol Chen")

        check_version(Row(version=1), 1, editor=editor)
        assert asked == []
        with pytest.raises(EditConflict) as caught:
            check_version(Row(version=2), 1, editor=editor)
        assert asked == [1]
        assert caught.value.editor.full_name == "Carol Chen"
        assert caught.value.messages[0].startswith("Carol Chen changed this while you were editing.")

    def test_a_save_of_your_own_elsewhere_is_not_someone_elses(self):
        carol = SimpleNamespace(pk=7, full_name="Carol Chen")
        with pytest.raises(EditConflict) as caught:
            check_version(Row(version=2), 1, editor=carol, actor=SimpleNamespace(pk=7, full_name="Carol Chen"))
        assert caught.value.by_saver
        assert caught.value.messages[0].startswith("You changed this in another tab or window")
        with pytest.raises(EditConflict) as caught:
            check_version(Row(version=2), 1, editor=carol, actor=SimpleNamespace(pk=8, full_name="Alice Adams"))
        assert not caught.value.by_saver and caught.value.messages[0].startswith("Carol Chen changed this")

    def test_unknown_editor_is_someone_else(self):
        with pytest.raises(EditConflict) as caught:
            check_version(Row(version=2), 1)
        assert caught.value.messages[0].startswith("Someone else changed this")


class TestIfMatch:
    def test_missing_is_428(self):
        with pytest.raises(PreconditionRequired) as caught:
            if_match_version(_request())
        assert caught.value.status_code == 428

    @pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), ('"3", "4"', 3), ("*", None)])
    def test_our_tags(self, header, version):
        assert if_match_version(_request(header)) == version

    @pytest.mark.parametrize("header", ['"abc"', '"-1"', '"1.5"', '"' + "9" * 40 + '"'])
    def test_a_tag_that_is_not_ours_cannot_match(self, header):
        with pytest.raises(PreconditionFailed) as caught:
            if_match_version(_request(header))
        assert caught.value.status_code == 412

    def test_etag_round_trips(self):
        assert etag_of(Row(version=12)) == '"12"'
        assert if_match_version(_request(etag_of(Row(version=12)))) == 12


def test_stale_response_is_412_with_the_current_etag_and_who():
    exc = EditConflict(Row(version=5), editor=SimpleNamespace(full_name="Carol Chen"))
    response = stale_response(exc)
    assert response.status_code == 412
    assert response["ETag"] == '"5"'
    assert response.data["current_version"] == 5 and response.data["changed_by"] == "Carol Chen"


class NotesForm(forms.Form):
    version = VersionField()
    notes = forms.CharField(required=False)


def test_version_field_is_hidden_and_optional():
    form = NotesForm(data={"notes": "x"})
    assert form.is_valid() and form.cleaned_data["version"] is None
    assert 'type="hidden"' in str(NotesForm(initial={"version": 4})["version"])
    assert not NotesForm(data={"notes": "x", "version": "-1"}).is_valid()


def test_after_a_conflict_the_form_keeps_the_text_and_carries_the_version_shown():
    form = NotesForm(data={"notes": "Alice's line", "version": "1"})
    assert form.is_valid()
    keep_for_second_save(form, EditConflict(Row(version=2)))
    html = str(form["version"])
    assert 'value="2"' in html
    assert form["notes"].value() == "Alice's line"
    assert "changed this while you were editing" in form.non_field_errors()[0]
