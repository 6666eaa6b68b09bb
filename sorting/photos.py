"""Drop photos: checked before decoding, re-encoded without metadata, stored under a random name.

A photo from a phone carries EXIF with GPS coordinates of the resident's home; re-encoding the pixels
alone drops every byte of it.
"""

import secrets
import warnings
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImage

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_BYTES = 6 * 1024 * 1024
MAX_PIXELS = 40_000_000  # about 7,700 x 5,200: any phone camera, no decompression bomb
MAX_SIDE = 1600
FOLDER = "drops"


def _root() -> Path:
    return Path(settings.MEDIA_ROOT)


def store_photo(upload) -> str:
    """Validate and re-encode an uploaded image; returns its path relative to MEDIA_ROOT."""
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
    name = f"{FOLDER}/{secrets.token_hex(16)}.jpg"
    path = _root() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG", quality=85, optimize=True)  # no exif= argument: no metadata
    return name


def photo_path(name: str) -> Path:
    path = (_root() / name).resolve()
    if not name or _root().resolve() not in path.parents:
        raise FileNotFoundError(name)
    return path
