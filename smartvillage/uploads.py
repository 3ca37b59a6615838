"""Uploaded files are bounded before they are stored: no more of a file than `settings.FILE_UPLOAD_MAX_BYTES`
(and the chunk that crosses it) is kept.

Django stores every file of a multipart body (in memory, or a temporary file past 2.5 MB) while it parses it,
which the input guard does for every POST before any view or authentication: without a bound, anyone could
fill the disk with one request. The first upload handler counts each file's bytes and, once past the limit,
passes no more of them on (the rest of the body is read and dropped). The view gets the file cut just past the
limit, so its `size` is still over the limit and the view refuses it by its own, smaller or equal, limit (a
report's photo: 10 MB; a bank statement: 50 MB, the portal's largest and the default of this one).
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler


class SizeLimitedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops passing a file's bytes to the storing handlers past the limit."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        already_over = self.received > settings.FILE_UPLOAD_MAX_BYTES
        self.received += len(raw_data)
        return None if already_over else raw_data

    def file_complete(self, file_size):
        return None  # the storing handlers' file, cut past the limit
