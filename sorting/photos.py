"""Drop photos: checked before decoding, re-encoded without metadata, stored under a random name.

A photo from a phone carries EXIF with GPS coordinates of the resident's home; re-encoding the pixels
alone drops every byte of it. Files go through Django's storage API (MEDIA_ROOT by default), so where
they live is configuration, not code.
"""

import io
import secrets
import warnings

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImage

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_BYTES = 6 * 1024 * 1024
MAX_PIXELS = 40_000_000  # about 7,700 x 5,200: any phone camera, no decompression bomb
MAX_SIDE = 1600
FOLDER = "drops"


def store_photo(upload) -> str:
    """Validate and re-encode an uploaded image; returns its name in the default storage."""
    if upload.size > MAX_BYTES:
        raise BadImage(f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)  # reads the header only
            if image.format not in ALLOWED_FORMATS:
                raise BadImage()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadImage("The photo has too many pixels.")
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
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=85, optimize=True)  # no exif= argument: no metadata
    return default_storage.save(f"{FOLDER}/{secrets.token_hex(16)}.jpg", ContentFile(encoded.getvalue()))


def open_photo(name: str):
    """The stored photo, opened for reading; FileNotFoundError when there is none.

    The storage refuses a name that points outside it (SuspiciousFileOperation)."""
    if not name:
        raise FileNotFoundError(name)
    return default_storage.open(name, "rb")
