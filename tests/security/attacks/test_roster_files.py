"""Finding 6: large roster files.

A 2 MB CSV of 200k invalid rows was re-parsed on every view of its preview until gunicorn
killed the worker; a 300 MB upload was read whole before being refused. Now the upload is
cut off while it streams, the file is parsed once (at upload) and kept parsed, and files
over the row or column limits are refused with one clear message. (How long a preview takes
is for a benchmark; these tests count work instead.)
"""

from unittest import mock

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from django.urls import reverse

from accounts import roster
from accounts.models import RosterImport
from accounts.roster import MAX_COLUMNS, MAX_ERRORS_KEPT, roster_import_preview
from accounts.views.roster import roster_import_upload

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"
BOUNDARY = "----mm-test-boundary"


class CountingStream:
    """The request body, counting what the server reads of it."""

    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else min(len(self.data), self.position + size)
        chunk, self.position = self.data[self.position : end], end
        return chunk

    def readline(self, size=-1):
        end = self.data.find(b"\n", self.position)
        end = len(self.data) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self.position + size)
        chunk, self.position = self.data[self.position : end], end
        return chunk


def _multipart(file_bytes: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + file_bytes
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _post_upload(program, user, body: bytes, *, declared_length: int | None):
    """POST ``body`` to the upload page through a real WSGI request whose input counts what is read."""
    stream = CountingStream(body)
    environ = RequestFactory()._base_environ(
        PATH_INFO=reverse("accounts:roster-import", args=[program.slug]),
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(declared_length if declared_length is not None else len(body)),
        **{"wsgi.input": stream},
    )
    request = WSGIRequest(environ)
    request.user = user
    request._dont_enforce_csrf_checks = True
    return roster_import_upload(request, slug=program.slug), stream


@pytest.mark.parametrize("rows", [150_000, 3_100], ids=["5 MB, refused by its length", "110 KB, cut off mid-stream"])
def test_an_oversize_upload_is_cut_off_while_it_streams(program, coordinator, settings, rows):
    settings.ROSTER_MAX_UPLOAD_BYTES = 100_000
    body = _multipart(b"a@b.example,A,B,resident,PGY-1,,,\n" * rows)

    response, stream = _post_upload(program, coordinator, body, declared_length=None)

    assert response.status_code == 400
    assert "The file is larger than the limit of 97.7\xa0KB" in response.content.decode()
    assert stream.position < 200_000, f"read {stream.position:,} of {len(body):,} bytes"
    assert not RosterImport.objects.exists()


def test_a_body_longer_than_its_declared_length_is_not_read_past_it(program, coordinator, settings):
    settings.ROSTER_MAX_UPLOAD_BYTES = 100_000
    body = _multipart(b"a@b.example,A,B,resident,PGY-1,,,\n" * 150_000)

    response, stream = _post_upload(program, coordinator, body, declared_length=1000)

    assert response.status_code == 400 and stream.position <= 1000
    assert not RosterImport.objects.exists()


def test_the_preview_is_parsed_once_at_upload_not_on_every_view(program, coordinator, client_for):
    data = (HEADER + "".join(f"bad-{i},,,nurse,,,,\n" for i in range(300))).encode()
    roster_import = roster_import_preview(program=program, uploaded_by=coordinator, filename="r.csv", data=data)
    client = client_for(coordinator)
    url = reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk])

    with mock.patch.object(roster, "_parse_uncapped", wraps=roster._parse_uncapped) as parse:
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200
    assert parse.call_count == 0
    # Every problem is counted, the first MAX_ERRORS_KEPT are listed.
    preview = response.context["preview"]
    assert len(preview.errors) == MAX_ERRORS_KEPT and preview.error_count > MAX_ERRORS_KEPT
    assert f"Nothing can be imported yet: {preview.error_count} problems" in response.content.decode()


def test_a_file_over_the_row_limit_is_refused_whole_without_reading_on(program, coordinator, settings):
    settings.ROSTER_MAX_ROWS = 50
    rows = "".join(f"p{i}@hospital.example,P,{i},resident,PGY-1,,,\n" for i in range(10_000))

    with mock.patch.object(roster._RowParser, "parse", wraps=roster._RowParser.parse, autospec=True) as parse:
        preview = roster.roster_parse(program=program, data=(HEADER + rows).encode())

    assert [e.message for e in preview.errors] == [
        "The file has more than 50 people in it; the limit is 50 rows per file. Split it into smaller files."
    ]
    assert parse.call_count == 0  # refused before a row was checked against the vocabularies


def test_a_file_with_too_many_columns_is_refused(program):
    header = ",".join(["email", "first_name", "last_name", "role"] + [f"x{i}" for i in range(MAX_COLUMNS)])

    preview = roster.roster_parse(program=program, data=(header + "\n").encode())

    assert len(preview.errors) == 1 and f"a roster has at most {MAX_COLUMNS}" in preview.errors[0].message
