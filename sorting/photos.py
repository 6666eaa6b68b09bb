"""Drop photos: checked before decoding, re-encoded without metadata, stored under a random name.

A photo from a phone carries EXIF with GPS coordinates of the resident's home; re-encoding the pixels
alone drops every byte of it.
"""

import io
import secrets
import threading
import warnings

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import interpolate_lazy

from .errors import BadImage

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_BYTES = 6 * 1024 * 1024
# A JPEG is decoded already scaled down to about MAX_SIDE (the decoder's DCT scaling, `draft`), so even
# the largest phone photo costs a few megabytes; 40 MP is about 7,700 x 5,200, any phone camera.
MAX_PIXELS = 40_000_000
# PNG and WebP have no such path and decode at full size, 4 bytes a pixel: 16 MP is 64 MB at most.
MAX_PIXELS_FULL_DECODE = 16_000_000
MAX_SIDE = 1600
FOLDER = "drops"
# Decoding is the one step whose memory scales with the input: at most this many at once per process,
# so a burst of large uploads waits instead of multiplying the peak.
DECODE_SLOTS = threading.BoundedSemaphore(2)


def prepared_photo(upload) -> bytes:
    """The upload checked and re-encoded as a JPEG without metadata; nothing is written anywhere."""
    if upload.size > MAX_BYTES:
        raise BadImage(
            interpolate_lazy(_("The photo is larger than %(megabytes)s MB."), {"megabytes": MAX_BYTES >> 20})
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)  # reads the header only
            if image.format not in ALLOWED_FORMATS:
                raise BadImage()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadImage(_("The photo has too many pixels."))
            if image.format == "JPEG":
                # The stored size, so the decoder may scale by the largest power of two that keeps it.
                ratio = MAX_SIDE / max(width, height)
                image.draft("RGB", (max(1, int(width * ratio)), max(1, int(height * ratio))))
            elif width * height > MAX_PIXELS_FULL_DECODE:
                raise BadImage(_("The photo has too many pixels."))
            with DECODE_SLOTS:
                image.thumbnail((MAX_SIDE, MAX_SIDE))  # decodes (at draft scale) and shrinks in place
                image = ImageOps.exif_transpose(image)
                image = image.convert("RGB")
    except BadImage:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise BadImage() from exc
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)  # no exif= argument: no metadata
    return buffer.getvalue()


def save_photo(content: bytes) -> str:
    """Store a prepared photo under a random name; returns the name the storage gave it."""
    return default_storage.save(f"{FOLDER}/{secrets.token_hex(16)}.jpg", ContentFile(content))


def delete_photo(name: str) -> None:
    default_storage.delete(name)


def open_photo(name: str):
    """The stored photo, opened for reading; FileNotFoundError when there is none."""
    if not name:
        raise FileNotFoundError(name)
    return default_storage.open(name, "rb")


def stored_before(moment) -> list[str]:
    """Names of the stored photos last written before `moment`."""
    try:
        _folders, files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return []
    names = [f"{FOLDER}/{name}" for name in files]
    return [name for name in names if default_storage.get_modified_time(name) < moment]
