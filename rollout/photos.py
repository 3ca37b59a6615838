"""Evidence photos of progress reports: checked, re-encoded without metadata, stored under their content's hash.

A photo from a phone carries metadata (EXIF: the camera, the time and often the GPS position). The portal
keeps none of it: each upload is decoded by Pillow (refused unless it is a real JPEG, PNG or WebP image),
turned upright by its EXIF orientation, scaled to at most `MAX_SIDE` pixels on its longest side and encoded
anew as a JPEG, which writes no metadata. The capture location is kept only where the officer chose to share
it, as the report's own latitude and longitude.

Files are written through Django's storage API (`storages["photos"]`: the file system, or S3-compatible
storage) under the hash of their bytes, before the report's transaction: a report whose transaction fails
leaves at most a file no row names (harmless, the same bytes are written again by a retry), never a report
without its photos.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# The formats a phone's camera or the portal's own resizing gives; anything else is refused.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# Longest side of a stored photo (the device already resizes to about this).
MAX_SIDE = 1600
# More pixels than any phone camera gives: a larger image is refused before it is decoded (a "pixel bomb").
MAX_PIXELS = 64_000_000
MAX_PHOTOS = 3
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"


class PhotoRefused(ValueError):
    """The upload is not a photo the portal takes; the message says why, for the officer."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: its re-encoded bytes and what the report's row records of it."""

    content: bytes
    width: int
    height: int
    sha256: str  # of `content`
    source_sha256: str  # of the upload, as the device sent it

    @property
    def name(self) -> str:
        """The storage name: the content's hash, so the same photo is one file, and no name is guessable."""
        return f"{self.sha256[:2]}/{self.sha256}.jpg"


def photo_storage() -> Storage:
    return storages["photos"]


def upload_sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def photo_refusal(upload) -> str:
    """Why a file over the size limit is refused (its content was not kept: smartvillage/uploads.py)."""
    message = _("%(name)s is too large (at most %(mb)d MB).")
    return message % {"name": upload.name, "mb": settings.PHOTO_MAX_UPLOAD_BYTES // 2**20}


def photo_prepare(upload) -> PreparedPhoto:
    """Check one uploaded file (a Django UploadedFile) and re-encode it; PhotoRefused if it is no photo."""
    if upload.size > settings.PHOTO_MAX_UPLOAD_BYTES:
        raise PhotoRefused(photo_refusal(upload))
    if upload.size == 0:
        raise PhotoRefused(_("%(name)s is empty.") % {"name": upload.name})
    source_sha256 = upload_sha256(upload)
    try:
        with Image.open(upload) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoRefused(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": upload.name})
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRefused(_("%(name)s has too many pixels.") % {"name": upload.name})
            probe.verify()  # the whole file, before decoding it for real
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P"):
                # Transparency (a PNG screenshot) on white, as it would print.
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, "white")
                background.paste(image, mask=image.getchannel("A"))
                image = background
            elif image.mode != "RGB":
                image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            # No exif=, icc_profile= or comment: the new file carries no metadata at all.
            image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
            width, height = image.size
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise PhotoRefused(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": upload.name}) from None
    content = out.getvalue()
    return PreparedPhoto(
        content=content,
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        source_sha256=source_sha256,
    )


def photos_prepare(uploads: Sequence) -> list[PreparedPhoto]:
    """Every upload of a report, checked (at most MAX_PHOTOS); PhotoRefused naming the first one refused."""
    if len(uploads) > MAX_PHOTOS:
        raise PhotoRefused(_("At most %(count)d photos per report.") % {"count": MAX_PHOTOS})
    return [photo_prepare(upload) for upload in uploads]


def photos_store(photos: Sequence[PreparedPhoto]) -> None:
    """Write each photo's file (once: a name is its content). Called before the report's transaction."""
    storage = photo_storage()
    for photo in photos:
        if not storage.exists(photo.name):
            storage.save(photo.name, ContentFile(photo.content))
