"""Drop photos: the rules run before any decoding, decoding is bounded, a resident's photos are rated,
and files no drop names are cleaned up."""

import io
import os
import struct
import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from sorting.models import Drop

from .helpers import AT_BIN_JSON, make_bin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (decoding it would allocate them all)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(buffer, format="JPEG", quality=50)
    return buffer.getvalue()


def post_photo(client, code, content, name="photo.jpg"):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return client.post(
        "/api/v1/drops", {"bin_code": code, "photo": upload, **AT_BIN_JSON}, format="multipart"
    )


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def test_a_drop_the_rules_refuse_is_never_decoded(resident, as_user, community, media):
    _bin, code = make_bin(community)
    assert post_photo(as_user(resident), code, jpeg(64, 64)).status_code == 201

    # Not an image at all: had it been decoded first, the answer would be bad_image.
    refused = [
        post_photo(as_user(resident), code, b"not an image" * 1000).json()["error"]["code"] for _ in range(20)
    ]

    assert set(refused) == {"too_soon"}
    assert Drop.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_a_png_too_large_to_decode_safely_is_refused_from_its_header(resident, as_user, community, media):
    _bin, code = make_bin(community)

    response = post_photo(as_user(resident), code, png_header_only(5000, 4000), name="big.png")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_image"
    assert not Drop.objects.exists()
    assert stored_files(media) == []


def test_a_large_jpeg_is_decoded_scaled_down_and_stored_small(resident, as_user, community, media):
    _bin, code = make_bin(community)

    response = post_photo(as_user(resident), code, jpeg(4800, 3600))

    assert response.status_code == 201
    stored = Image.open(media / Drop.objects.get().photo)
    assert max(stored.size) <= 1600


def test_a_resident_may_attach_only_so_many_photos_an_hour(resident, as_user, community, media, settings):
    settings.SORTING_PHOTOS_PER_HOUR = 2
    codes = [make_bin(community, name=f"bin {n}")[1] for n in range(3)]

    answers = [post_photo(as_user(resident), code, jpeg(64, 64)) for code in codes]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[2].json()["error"]["code"] == "photo_limit"
    assert Drop.objects.count() == 2
    assert len(stored_files(media)) == 2
    without_photo = as_user(resident).post(
        "/api/v1/drops", {"bin_code": codes[2], **AT_BIN_JSON}, format="json"
    )
    assert without_photo.status_code == 201


def test_the_cleanup_removes_old_files_no_drop_names_and_keeps_the_rest(resident, as_user, community, media):
    _bin, code = make_bin(community)
    assert post_photo(as_user(resident), code, jpeg(64, 64)).status_code == 201
    kept = media / Drop.objects.get().photo
    orphan = media / "drops" / "0123456789abcdef0123456789abcdef.jpg"
    orphan.write_bytes(jpeg(8, 8))
    fresh_orphan = media / "drops" / "fedcba9876543210fedcba9876543210.jpg"
    fresh_orphan.write_bytes(jpeg(8, 8))
    two_hours_ago = time.time() - 7200
    for path in (kept, orphan):
        os.utime(path, (two_hours_ago, two_hours_ago))

    call_command("purge_orphan_photos")

    assert kept.exists()
    assert not orphan.exists()
    # A file written a moment ago may belong to a drop that is committing right now.
    assert fresh_orphan.exists()
