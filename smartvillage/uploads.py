"""Uploaded files are bounded before they are stored: a file over `settings.FILE_UPLOAD_MAX_BYTES` is not kept.

Django stores every file of a multipart body (in memory, or a temporary file past 2.5 MB) while it parses it,
which the input guard does for every POST before any view or authentication: without a bound, anyone could
fill the disk with one request. The first upload handler counts each file's bytes and, past the limit, passes no
more of them on (the rest of the body is read and dropped); the view gets a `TooLargeUpload` of the size
received, with no content, and refuses it (a report's photo: 400 naming `photos`).
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class TooLargeUpload(UploadedFile):
    """A file that was over the limit: its name and the bytes received (`size`), none of its content."""

    def __init__(self, name: str, content_type: str, size: int):
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=size)


class SizeLimitedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops passing a file's bytes to the storing handlers past the limit."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return None if self.received > settings.FILE_UPLOAD_MAX_BYTES else raw_data

    def file_complete(self, file_size):
        if self.received > settings.FILE_UPLOAD_MAX_BYTES:
            return TooLargeUpload(self.file_name, self.content_type, self.received)
        return None
