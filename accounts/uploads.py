"""Bounded uploads: a file is cut off while it streams, not after it has been read whole.

Django's own handlers spool any upload to memory or a temporary file before the view
sees it, and the file size is only known then; ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not
count files. ``LimitedUploadHandler``, installed first by the view that takes the
upload, refuses a request whose declared length is over the limit before reading a
byte of it, and stops reading (the connection is closed) as soon as the bytes received
pass the limit when the length was not declared or lied about.
"""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the form's other fields and the multipart boundaries around the file.
_ENVELOPE_BYTES = 64 * 1024


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.refused = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Refused at the first file part (the parser turns StopUpload there into "no file";
        # raised here it would escape as a server error).
        self.refused = bool(content_length and content_length > self.limit + _ENVELOPE_BYTES)
        return None  # let the next handlers read it

    def new_file(self, *args, **kwargs):
        if self.refused:
            raise StopUpload(connection_reset=True)
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
            raise StopUpload(connection_reset=True)
        return raw_data  # pass the chunk on to the handler that keeps it

    def file_complete(self, file_size):
        return None


def limit_uploads(request, limit: int) -> LimitedUploadHandler:
    """Put a limit in front of ``request``'s upload handlers. Call it before anything reads
    ``request.POST`` or ``request.FILES`` (so the view must be ``csrf_exempt`` and
    check CSRF itself, with ``csrf_protect``, after this: Django's documented pattern)."""
    handler = LimitedUploadHandler(request, limit)
    request.upload_handlers.insert(0, handler)
    return handler
