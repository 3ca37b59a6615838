"""No uploaded file over the limit is stored, even while a request is parsed (smartvillage/uploads.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from smartvillage.uploads import TooLargeUpload


def _files(size: int):
    request = RequestFactory().post("/", {"photos": SimpleUploadedFile("foto.jpg", b"x" * size, "image/jpeg")})
    return request.FILES.getlist("photos")


def test_a_file_over_the_limit_arrives_as_its_size_without_its_content(settings):
    settings.FILE_UPLOAD_MAX_BYTES = 100_000

    (upload,) = _files(250_000)

    assert isinstance(upload, TooLargeUpload)
    assert (upload.name, upload.size, upload.read()) == ("foto.jpg", 250_000, b"")


def test_a_file_within_the_limit_arrives_whole(settings):
    settings.FILE_UPLOAD_MAX_BYTES = 100_000

    (upload,) = _files(100_000)

    assert not isinstance(upload, TooLargeUpload)
    assert upload.size == 100_000 and upload.read() == b"x" * 100_000
