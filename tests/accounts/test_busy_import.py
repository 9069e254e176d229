"""Importing busy blocks from iCalendar: an ``.ics`` served by a real local HTTP server
(http.server in a thread), refreshed with its blocks replaced atomically, bad files and
bad addresses refused without changing anything, and the fetch refusing to be turned
against our own network (SSRF)."""

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.busy import (
    CalendarImportError,
    busy_calendar_add_url,
    busy_calendar_import_file,
    busy_calendar_refresh,
    busy_calendars_refresh_due,
    fetch_calendar,
    parse_busy_calendar,
)
from accounts.models import BusyBlock, BusyCalendar
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _day(offset: int) -> date:
    return timezone.localdate() + timedelta(days=offset)


def _ics(*events: str) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Amion//Schedule//EN", *events, "END:VCALENDAR", ""]
    )
    return body.encode()


def _all_day(uid: str, summary: str, first: date, last: date, extra: str = "") -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
        f"DTEND;VALUE=DATE:{last + timedelta(days=1):%Y%m%d}",  # exclusive
        f"SUMMARY:{summary}",
    ]
    if extra:
        lines.append(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


class _Schedule(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (status, body, headers)``."""

    def do_GET(self):
        status, body, headers = self.server.routes.get(self.path, (404, b"not here", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Schedule)
    httpd.routes = {}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


ROTATION = _ics(
    _all_day("night-1@amion", "Night float", _day(5), _day(11)),
    _all_day("icu-1@amion", "MICU", _day(20), _day(47)),
    _all_day("free-1@amion", "Clinic (free)", _day(2), _day(2), extra="TRANSP:TRANSPARENT"),
    _all_day("gone-1@amion", "Cancelled shift", _day(3), _day(3), extra="STATUS:CANCELLED"),
)


def test_a_rotation_feed_is_imported_from_its_address_and_refreshed(server, resident):
    server.routes["/alice.ics"] = (200, ROTATION, {})
    calendar = busy_calendar_add_url(user=resident, url=f"{server.base}/alice.ics", name="Amion")
    blocks = {b.external_uid: b for b in BusyBlock.objects.filter(user=resident)}
    assert set(blocks) == {"night-1@amion", "icu-1@amion"}  # free and cancelled events are not busy
    night = blocks["night-1@amion"]
    assert (night.label, night.start_date, night.end_date, night.calendar) == (
        "Night float",
        _day(5),
        _day(11),  # DTEND is exclusive
        calendar,
    )
    assert calendar.url.endswith("/alice.ics") and calendar.last_synced_at and not calendar.last_error
    assert AuditEntry.objects.filter(action="busy_calendar.subscribe", object_id=str(calendar.pk)).exists()

    # The schedule changes: the ICU month moves, nights are dropped, vacation is added.
    server.routes["/alice.ics"] = (
        200,
        _ics(
            _all_day("icu-1@amion", "MICU", _day(30), _day(57)),
            _all_day("vac-1@amion", "Vacation", _day(60), _day(66)),
        ),
        {},
    )
    icu_pk = blocks["icu-1@amion"].pk
    typed = BusyBlock.objects.create(user=resident, start_date=_day(1), end_date=_day(1), label="Exam")
    busy_calendar_refresh(calendar=calendar)
    after = {b.external_uid: b for b in BusyBlock.objects.filter(calendar=calendar)}
    assert set(after) == {"icu-1@amion", "vac-1@amion"}
    assert after["icu-1@amion"].pk == icu_pk and after["icu-1@amion"].start_date == _day(30)
    assert BusyBlock.objects.filter(pk=typed.pk).exists()  # typed blocks are not the calendar's


def test_a_failed_refresh_keeps_the_blocks_and_says_why(server, resident):
    server.routes["/alice.ics"] = (200, ROTATION, {})
    calendar = busy_calendar_add_url(user=resident, url=f"{server.base}/alice.ics")
    before = sorted(BusyBlock.objects.filter(calendar=calendar).values_list("external_uid", "start_date"))

    server.routes["/alice.ics"] = (500, b"oops", {})
    calendar = busy_calendar_refresh(calendar=calendar)
    assert "500" in calendar.last_error

    server.routes["/alice.ics"] = (200, b"<html>Sign in to Amion</html>", {})
    calendar = busy_calendar_refresh(calendar=calendar)
    assert calendar.last_error == "This is not an iCalendar (.ics) file."
    assert sorted(BusyBlock.objects.filter(calendar=calendar).values_list("external_uid", "start_date")) == before

    # The daily task tries again and the good version clears the error.
    server.routes["/alice.ics"] = (200, _ics(_all_day("vac@x", "Vacation", _day(9), _day(9))), {})
    BusyCalendar.objects.filter(pk=calendar.pk).update(last_synced_at=timezone.now() - timedelta(days=1))
    assert busy_calendars_refresh_due() == 1
    calendar.refresh_from_db()
    assert calendar.last_error == ""
    assert list(calendar.blocks.values_list("label", flat=True)) == ["Vacation"]


def test_a_bad_address_saves_nothing(server, resident):
    server.routes["/empty"] = (404, b"", {})
    with pytest.raises(ValidationError) as missing:
        busy_calendar_add_url(user=resident, url=f"{server.base}/empty")
    assert "404" in missing.value.message_dict["url"][0]
    for url in ("ftp://example.org/x.ics", "file:///etc/passwd", "javascript:alert(1)", "not a url", ""):
        with pytest.raises(ValidationError, match="https://, http:// or webcal://"):
            busy_calendar_add_url(user=resident, url=url)
    with pytest.raises(ValidationError, match="without a user name"):
        busy_calendar_add_url(user=resident, url=f"http://me:secret@127.0.0.1:{server.server_address[1]}/a.ics")
    assert not BusyCalendar.objects.exists() and not BusyBlock.objects.exists()


def test_webcal_addresses_are_fetched_over_https(resident, monkeypatch):
    seen = []
    monkeypatch.setattr("accounts.busy.fetch_calendar", lambda url: seen.append(url) or ROTATION)
    busy_calendar_add_url(user=resident, url="webcal://schedules.example/alice.ics")
    assert seen == ["https://schedules.example/alice.ics"]


class TestSsrf:
    @pytest.fixture(autouse=True)
    def _public_only(self, settings):
        settings.BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = False

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/x.ics",
            "http://localhost:8000/admin/",
            "http://[::1]/x.ics",
            "http://169.254.169.254/latest/meta-data/",  # cloud metadata
            "http://10.0.0.5/x.ics",
            "http://192.168.1.1/x.ics",
            "http://0.0.0.0/x.ics",
            "webcal://[::ffff:127.0.0.1]/x.ics",
        ],
    )
    def test_private_addresses_are_refused_before_connecting(self, resident, url, monkeypatch):
        def no_connection(*args, **kwargs):
            raise AssertionError("connected to a private address")

        monkeypatch.setattr("socket.create_connection", no_connection)
        with pytest.raises(ValidationError, match="private network"):
            busy_calendar_add_url(user=resident, url=url)
        assert not BusyCalendar.objects.exists()

    def test_the_local_server_itself_is_refused(self, server, resident):
        server.routes["/alice.ics"] = (200, ROTATION, {})
        with pytest.raises(ValidationError, match="private network"):
            busy_calendar_add_url(user=resident, url=f"{server.base}/alice.ics")

    def test_a_public_name_that_resolves_inside_is_refused(self, resident, monkeypatch):
        monkeypatch.setattr("socket.getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("10.1.2.3", port))])
        with pytest.raises(CalendarImportError, match="private network"):
            fetch_calendar("https://rebind.example/x.ics")

    def test_a_redirect_into_the_network_is_refused(self, server, resident, settings):
        # The first hop is allowed (the test server is local), the redirect is checked again.
        server.routes["/moved"] = (302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        settings.BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = True
        import accounts.busy as busy

        checked = []
        real = busy._resolve

        def resolve(host, port):
            checked.append(host)
            if host == "169.254.169.254":
                settings.BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = False
            return real(host, port)

        busy._resolve, restore = resolve, busy._resolve
        try:
            with pytest.raises(CalendarImportError, match="private network"):
                fetch_calendar(f"{server.base}/moved")
        finally:
            busy._resolve = restore
        assert checked == ["127.0.0.1", "169.254.169.254"]


def test_a_calendar_too_large_is_refused(server, resident, settings):
    settings.BUSY_CALENDAR_MAX_BYTES = 1024
    server.routes["/big.ics"] = (200, ROTATION + b" " * 2048, {})
    with pytest.raises(ValidationError, match="larger than 1 KB"):
        busy_calendar_add_url(user=resident, url=f"{server.base}/big.ics")
    assert not BusyCalendar.objects.exists()


def test_a_slow_server_times_out(resident, settings):
    settings.BUSY_CALENDAR_TIMEOUT = 1
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        with pytest.raises(ValidationError, match="too long"):
            busy_calendar_add_url(user=resident, url=f"http://127.0.0.1:{silent.getsockname()[1]}/x.ics")
    finally:
        silent.close()


def test_an_uploaded_file_is_imported_once(resident):
    calendar = busy_calendar_import_file(user=resident, content=ROTATION, filename="qgenda.ics")
    assert (calendar.name, calendar.url) == ("qgenda.ics", "")
    assert calendar.blocks.count() == 2
    with pytest.raises(ValidationError, match="imported once"):
        busy_calendar_refresh(calendar=calendar)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not an iCalendar"),
        (b"Name,Start,End\nNights,2026-01-01,2026-01-07\n", "not an iCalendar"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice\r\nEND:VCARD\r\n", "not an iCalendar"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not an iCalendar"),
    ],
)
def test_a_bad_file_changes_nothing(resident, content, message):
    with pytest.raises(ValidationError, match=message):
        busy_calendar_import_file(user=resident, content=content, filename="x.ics")
    assert not BusyCalendar.objects.exists() and not BusyBlock.objects.exists()


def test_recurring_events_are_expanded_within_a_bounded_window(resident):
    start = _day(7)
    weekly_call = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:call@qgenda",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start:%Y%m%d}T190000",
            f"DTEND:{start + timedelta(days=1):%Y%m%d}T070000",
            "SUMMARY:Home call",
            "RRULE:FREQ=WEEKLY",  # forever
            "END:VEVENT",
        ]
    )
    events = parse_busy_calendar(_ics(weekly_call), zone=resident.time_zone)
    assert 50 <= len(events) <= 53  # a year ahead, not forever
    assert len({e.uid for e in events}) == len(events)
    first = events[0]
    assert (first.start_date, first.end_date, first.label) == (start, start + timedelta(days=1), "Home call")
    assert all(e.start_date <= _day(366) for e in events)


def test_a_timed_event_ending_at_midnight_takes_one_day(resident):
    shift = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:eve@x",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{_day(4):%Y%m%d}T150000",
            f"DTEND:{_day(5):%Y%m%d}T000000",
            "SUMMARY:Evening",
            "END:VEVENT",
        ]
    )
    (event,) = parse_busy_calendar(_ics(shift), zone=resident.time_zone)
    assert (event.start_date, event.end_date) == (_day(4), _day(4))


def test_a_block_far_away_is_clipped_to_what_a_block_may_be(resident):
    far = _ics(_all_day("old@x", "Long leave", _day(-800), _day(10)))
    (event,) = parse_busy_calendar(far, zone=resident.time_zone)
    assert event.start_date >= _day(-366) and event.end_date == _day(10)


class TestPage:
    def test_upload_on_the_page(self, client_for, resident):
        client = client_for(resident)
        upload = SimpleUploadedFile("amion.ics", ROTATION, content_type="text/calendar")
        response = client.post("/profile/busy/calendars/upload/", {"file": upload, "name": "Amion"})
        assert response.status_code == 302
        page = client.get("/profile/busy/").content.decode()
        assert "Night float" in page and "from Amion" in page
        assert "from Amion" in client.get("/profile/").content.decode()

    def test_a_bad_upload_shows_a_plain_error(self, client_for, resident):
        upload = SimpleUploadedFile("notes.ics", b"hello", content_type="text/calendar")
        response = client_for(resident).post("/profile/busy/calendars/upload/", {"file": upload})
        assert response.status_code == 400
        assert "This is not an iCalendar (.ics) file." in response.content.decode()
        assert not BusyCalendar.objects.exists()

    def test_an_upload_over_the_limit_is_cut_off(self, client_for, resident, settings):
        settings.BUSY_CALENDAR_MAX_BYTES = 1024
        upload = SimpleUploadedFile("big.ics", ROTATION + b" " * 200_000, content_type="text/calendar")
        response = client_for(resident).post("/profile/busy/calendars/upload/", {"file": upload})
        assert response.status_code == 400 and "larger than 1 KB" in response.content.decode()

    def test_subscribe_refresh_and_remove_on_the_page(self, server, client_for, resident, other_resident):
        server.routes["/alice.ics"] = (200, ROTATION, {})
        client = client_for(resident)
        response = client.post("/profile/busy/calendars/subscribe/", {"url": f"{server.base}/alice.ics"})
        assert response.status_code == 302
        calendar = BusyCalendar.objects.get(user=resident)
        assert calendar.name == "127.0.0.1"
        # Someone else cannot refresh or remove it: 404.
        other = client_for(other_resident)
        assert other.post(f"/profile/busy/calendars/{calendar.pk}/refresh/").status_code == 404
        assert other.post(f"/profile/busy/calendars/{calendar.pk}/delete/").status_code == 404
        assert client.post(f"/profile/busy/calendars/{calendar.pk}/refresh/").status_code == 302
        assert client.post(f"/profile/busy/calendars/{calendar.pk}/delete/").status_code == 302
        assert not BusyBlock.objects.filter(user=resident).exists()

    def test_a_bad_address_on_the_page_is_a_plain_error(self, client_for, resident, settings):
        settings.BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = False
        response = client_for(resident).post("/profile/busy/calendars/subscribe/", {"url": "http://127.0.0.1/x.ics"})
        assert response.status_code == 400
        assert "That address points inside a private network" in response.content.decode()


class TestApi:
    def test_import_by_address_and_by_file(self, server, api_for, resident):
        server.routes["/alice.ics"] = (200, ROTATION, {})
        api = api_for(resident)
        by_url = api.post("/api/v1/me/busy-calendars/", {"url": f"{server.base}/alice.ics"}, format="json")
        assert by_url.status_code == 201 and by_url.json()["kind"] == "url" and by_url.json()["block_count"] == 2
        upload = SimpleUploadedFile("q.ics", ROTATION, content_type="text/calendar")
        by_file = api.post("/api/v1/me/busy-calendars/", {"file": upload, "name": "QGenda"}, format="multipart")
        assert by_file.status_code == 201 and by_file.json()["name"] == "QGenda"
        listed = api.get("/api/v1/me/busy-calendars/").json()["results"]
        assert [c["name"] for c in listed] == ["127.0.0.1", "QGenda"]
        refreshed = api.post(f"/api/v1/me/busy-calendars/{by_url.json()['id']}/refresh/")
        assert refreshed.status_code == 200 and refreshed.json()["last_error"] == ""

    def test_bad_input_is_400_and_saves_nothing(self, api_for, resident, settings):
        settings.BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = False
        api = api_for(resident)
        ssrf = api.post("/api/v1/me/busy-calendars/", {"url": "http://169.254.169.254/"}, format="json")
        assert ssrf.status_code == 400 and "private network" in ssrf.json()["url"][0]
        assert api.post("/api/v1/me/busy-calendars/", {}, format="json").status_code == 400
        assert not BusyCalendar.objects.exists()

    def test_another_persons_calendar_is_404(self, api_for, resident, coordinator):
        calendar = busy_calendar_import_file(user=resident, content=ROTATION, filename="a.ics")
        for who in (coordinator,):
            api = api_for(who)
            assert api.get(f"/api/v1/me/busy-calendars/{calendar.pk}/").status_code == 404
            assert api.delete(f"/api/v1/me/busy-calendars/{calendar.pk}/").status_code == 404
            assert api.post(f"/api/v1/me/busy-calendars/{calendar.pk}/refresh/").status_code == 404
        assert BusyBlock.objects.filter(calendar=calendar).count() == 2
