"""No more of an uploaded file than the limit is stored, even while a request is parsed (smartvillage/uploads.py)."""

from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from treasury.parsers.common import MAX_FILE_BYTES


def _files(size: int):
    request = RequestFactory().post("/", {"photos": SimpleUploadedFile("foto.jpg", b"x" * size, "image/jpeg")})
    return request.FILES.getlist("photos")


def test_a_file_over_the_limit_arrives_cut_just_past_it(settings):
    settings.FILE_UPLOAD_MAX_BYTES = 100_000

    (upload,) = _files(1_000_000)

    # Cut after the chunk that crossed the limit: still over it, so the view refuses it; the rest never stored.
    assert 100_000 < upload.size <= 100_000 + 64 * 2**10
    assert len(upload.read()) == upload.size


def test_a_file_within_the_limit_arrives_whole(settings):
    settings.FILE_UPLOAD_MAX_BYTES = 100_000

    (upload,) = _files(100_000)

    assert upload.size == 100_000 and upload.read() == b"x" * 100_000


def test_the_limit_lets_through_the_largest_file_any_view_takes():
    assert max(MAX_FILE_BYTES, django_settings.PHOTO_MAX_UPLOAD_BYTES) <= django_settings.FILE_UPLOAD_MAX_BYTES
