"""Drop photos: checked before decoding, re-encoded without metadata, stored under a random name.

A photo from a phone carries EXIF with GPS coordinates of the resident's home; re-encoding the pixels
alone drops every byte of it.
"""

import io
import secrets
import warnings

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import interpolate_lazy

from .errors import BadImage

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_BYTES = 6 * 1024 * 1024
MAX_PIXELS = 40_000_000  # about 7,700 x 5,200: any phone camera, no decompression bomb
MAX_SIDE = 1600
FOLDER = "drops"


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
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
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
