"""Busy blocks typed by their owner: added, edited and removed on the page and in the API,
validated like the model, and nobody else's — another resident's, or a resident's seen by
their coordinator — reachable (404)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.busy import busy_block_create, busy_block_delete, busy_block_update, busy_calendar_import_file
from accounts.models import BusyBlock
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _day(offset: int) -> date:
    return timezone.localdate() + timedelta(days=offset)


@pytest.fixture
def nights(resident):
    return busy_block_create(user=resident, start_date=_day(3), end_date=_day(9), label="Night float")


IMPORTED = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:icu@amion\r\nDTSTAMP:20260101T000000Z\r\n"
    b"DTSTART;VALUE=DATE:%s\r\nSUMMARY:ICU\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def imported(resident):
    content = IMPORTED % _day(12).strftime("%Y%m%d").encode()
    return busy_calendar_import_file(user=resident, content=content, name="Amion").blocks.get()


class TestServices:
    def test_add_edit_remove_with_the_audit_trail(self, resident, nights):
        assert (nights.user, nights.label, nights.calendar) == (resident, "Night float", None)
        busy_block_update(block=nights, actor=resident, start_date=_day(4), end_date=_day(10), label=" Nights ")
        nights.refresh_from_db()
        assert (nights.start_date, nights.end_date, nights.label) == (_day(4), _day(10), "Nights")
        busy_block_delete(block=nights, actor=resident)
        assert not BusyBlock.objects.exists()
        entries = AuditEntry.objects.filter(object_type="busyblock").order_by("id")
        assert list(entries.values_list("action", flat=True)) == [
            "busy_block.create",
            "busy_block.update",
            "busy_block.delete",
        ]

    @pytest.mark.parametrize(
        "start, end, label, field",
        [
            (_day(5), _day(4), "Nights", "end_date"),  # ends before it starts
            (date(1999, 1, 1), date(1999, 1, 2), "Old", "start_date"),  # an absurd year
            (_day(1), date(9999, 12, 31), "Forever", "end_date"),
            (_day(1), _day(2), "   ", "label"),
            (_day(1), _day(2), "x" * 121, "label"),
        ],
    )
    def test_refused_like_the_model(self, resident, start, end, label, field):
        with pytest.raises(ValidationError) as refused:
            busy_block_create(user=resident, start_date=start, end_date=end, label=label)
        assert field in refused.value.message_dict
        assert not BusyBlock.objects.exists()

    def test_nobody_else_edits_or_removes_it(self, nights, attending, coordinator):
        for who in (attending, coordinator):
            with pytest.raises(PermissionDenied):
                busy_block_update(block=nights, actor=who, start_date=_day(1), end_date=_day(1), label="Mine now")
            with pytest.raises(PermissionDenied):
                busy_block_delete(block=nights, actor=who)
        nights.refresh_from_db()
        assert nights.label == "Night float"

    def test_an_imported_block_is_changed_at_its_source(self, resident, imported):
        with pytest.raises(ValidationError, match="comes from the calendar “Amion”"):
            busy_block_update(block=imported, actor=resident, start_date=_day(1), end_date=_day(1), label="x")
        with pytest.raises(ValidationError, match="comes from the calendar"):
            busy_block_delete(block=imported, actor=resident)
        assert BusyBlock.objects.filter(pk=imported.pk).exists()


class TestPage:
    def test_add_edit_and_remove_on_the_page(self, client_for, resident):
        client = client_for(resident)
        assert "Add, edit or import busy blocks" in client.get("/profile/").content.decode()
        response = client.post(
            "/profile/busy/",
            {"label": "Vacation", "start_date": _day(20).isoformat(), "end_date": _day(27).isoformat()},
        )
        assert response.status_code == 302
        block = BusyBlock.objects.get(user=resident)
        edit = f"/profile/busy/{block.pk}/edit/"
        form = client.get(edit).content.decode()
        assert 'value="Vacation"' in form and "Edit “Vacation”" in form
        response = client.post(edit, {"label": "Vacation (Lisbon)", "start_date": _day(21), "end_date": _day(27)})
        assert response.status_code == 302
        block.refresh_from_db()
        assert (block.label, block.start_date) == ("Vacation (Lisbon)", _day(21))
        assert "Vacation (Lisbon)" in client.get("/profile/").content.decode()
        assert client.post(f"/profile/busy/{block.pk}/delete/").status_code == 302
        assert not BusyBlock.objects.exists()

    def test_a_bad_block_is_shown_back_with_its_error(self, client_for, resident):
        response = client_for(resident).post(
            "/profile/busy/", {"label": "Nights", "start_date": _day(9).isoformat(), "end_date": _day(3).isoformat()}
        )
        assert response.status_code == 400
        assert "The last day cannot be before the first." in response.content.decode()
        response = client_for(resident).post(
            "/profile/busy/", {"label": "Nights", "start_date": "1900-01-01", "end_date": "1900-01-02"}
        )
        assert response.status_code == 400 and "Choose a day from" in response.content.decode()
        assert not BusyBlock.objects.exists()

    def test_someone_elses_block_is_404(self, client_for, nights, attending, coordinator):
        for who in (attending, coordinator):
            client = client_for(who)
            assert client.get(f"/profile/busy/{nights.pk}/edit/").status_code == 404
            assert client.post(f"/profile/busy/{nights.pk}/edit/", {"label": "x"}).status_code == 404
            assert client.post(f"/profile/busy/{nights.pk}/delete/").status_code == 404
            assert f"/profile/busy/{nights.pk}/" not in client.get("/profile/busy/").content.decode()
        assert BusyBlock.objects.filter(pk=nights.pk, label="Night float").exists()

    def test_remove_needs_a_post(self, client_for, resident, nights):
        assert client_for(resident).get(f"/profile/busy/{nights.pk}/delete/").status_code == 405

    def test_an_imported_block_has_no_edit_and_shows_its_source(self, client_for, resident, imported):
        client = client_for(resident)
        page = client.get("/profile/busy/").content.decode()
        assert "from Amion" in page and f"/profile/busy/{imported.pk}/edit/" not in page
        assert client.get(f"/profile/busy/{imported.pk}/edit/").status_code == 302
        client.post(f"/profile/busy/{imported.pk}/delete/")
        assert BusyBlock.objects.filter(pk=imported.pk).exists()


class TestApi:
    URL = "/api/v1/me/busy-blocks/"

    def test_create_list_update_delete(self, api_for, resident):
        api = api_for(resident)
        created = api.post(
            self.URL,
            {"label": "ICU", "start_date": _day(1).isoformat(), "end_date": _day(28).isoformat()},
            format="json",
        )
        assert created.status_code == 201, created.json()
        block = created.json()
        assert (block["label"], block["calendar"], block["source"]) == ("ICU", None, "Typed in")
        listed = api.get(self.URL).json()
        assert [b["id"] for b in listed["results"]] == [block["id"]]
        patched = api.patch(f"{self.URL}{block['id']}/", {"label": "MICU"}, format="json")
        assert patched.status_code == 200 and patched.json()["label"] == "MICU"
        put = api.put(
            f"{self.URL}{block['id']}/",
            {"label": "MICU", "start_date": _day(2).isoformat(), "end_date": _day(29).isoformat()},
            format="json",
        )
        assert put.status_code == 200 and put.json()["start_date"] == _day(2).isoformat()
        assert api.delete(f"{self.URL}{block['id']}/").status_code == 204
        assert api.get(f"{self.URL}{block['id']}/").status_code == 404

    def test_bad_blocks_are_400(self, api_for, resident, nights):
        api = api_for(resident)
        backwards = api.post(
            self.URL, {"label": "x", "start_date": _day(5).isoformat(), "end_date": _day(1).isoformat()}, format="json"
        )
        assert backwards.status_code == 400 and "end_date" in backwards.json()
        absurd = api.patch(f"{self.URL}{nights.pk}/", {"end_date": "9999-12-31"}, format="json")
        assert absurd.status_code == 400 and "end_date" in absurd.json()
        assert api.post(self.URL, {"label": "x"}, format="json").status_code == 400
        nights.refresh_from_db()
        assert nights.end_date == _day(9)

    def test_someone_elses_block_is_404_and_untouched(self, api_for, nights, attending, coordinator, outsider):
        for who in (attending, coordinator, outsider):
            api = api_for(who)
            assert api.get(self.URL).json()["results"] == []
            assert api.get(f"{self.URL}{nights.pk}/").status_code == 404
            assert api.patch(f"{self.URL}{nights.pk}/", {"label": "Mine"}, format="json").status_code == 404
            assert api.delete(f"{self.URL}{nights.pk}/").status_code == 404
        nights.refresh_from_db()
        assert nights.label == "Night float"

    def test_the_owner_cannot_be_changed_by_a_field(self, api_for, resident, attending):
        created = api_for(resident).post(
            self.URL,
            {
                "label": "ICU",
                "start_date": _day(1).isoformat(),
                "end_date": _day(2).isoformat(),
                "user": attending.pk,
                "calendar": 1,
            },
            format="json",
        )
        assert created.status_code == 201
        assert BusyBlock.objects.get().user == resident and BusyBlock.objects.get().calendar is None

    def test_an_imported_block_is_read_only(self, api_for, resident, imported):
        api = api_for(resident)
        listed = api.get(self.URL).json()["results"]
        assert listed[0]["source"] == "Amion"
        refused = api.patch(f"{self.URL}{imported.pk}/", {"label": "x"}, format="json")
        assert refused.status_code == 400
        assert api.delete(f"{self.URL}{imported.pk}/").status_code == 400

    def test_anonymous_is_refused(self, client):
        assert client.get(self.URL).status_code in (401, 403)
