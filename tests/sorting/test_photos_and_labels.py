import io
import re
import struct
import zlib

import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from sorting.models import Drop
from sorting.services import bin_code
from tests.factories import InspectorFactory, ResidentFactory

from .helpers import AT_BIN_JSON, make_bin


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (34.0, 1.0, 48.0), 3: "E", 4: (113.0, 51.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def png_bomb() -> bytes:
    """A few hundred bytes of PNG whose header claims 60,000 x 60,000 pixels (3.6 gigapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def post_photo(client, code, content, name="photo.jpg"):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return client.post(
        "/api/v1/drops", {"bin_code": code, "photo": upload, **AT_BIN_JSON}, format="multipart"
    )


@pytest.fixture
def code(community):
    return make_bin(community)[1]


def test_a_photo_is_stored_without_its_gps_metadata(resident, as_user, code, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    response = post_photo(as_user(resident), code, original)

    assert response.status_code == 201, response.content
    stored = Image.open(tmp_path / Drop.objects.get().photo)
    assert stored.format == "JPEG"
    assert not stored.getexif() and not stored.getexif().get_ifd(0x8825)
    assert b"PhoneMaker" not in (tmp_path / Drop.objects.get().photo).read_bytes()


def test_the_photo_is_served_to_the_owner_and_inspectors_only(
    resident, as_user, code, community, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    drop_id = post_photo(as_user(resident), code, jpeg_with_gps()).json()["id"]
    inspector = InspectorFactory(district=community.district, communities=[community])

    assert as_user(resident).get(f"/api/v1/drops/{drop_id}/photo").status_code == 200
    assert as_user(inspector).get(f"/api/v1/drops/{drop_id}/photo").status_code == 200
    assert as_user(ResidentFactory()).get(f"/api/v1/drops/{drop_id}/photo").status_code == 404


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(png_bomb(), id="decompression-bomb"),
        pytest.param(jpeg_with_gps()[:2000], id="truncated"),
        pytest.param(b"GIF89a" + b"\x00" * 100, id="gif"),
        pytest.param(b"not an image at all", id="garbage"),
        pytest.param(struct.pack(">I", 0) * 50, id="zeros"),
    ],
)
def test_bogus_or_hostile_images_are_bad_image_and_record_nothing(
    resident, as_user, code, content, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = post_photo(as_user(resident), code, content)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_image"
    assert not Drop.objects.exists()
    assert not list(tmp_path.rglob("*.jpg"))


def decoded_codes(image: Image.Image) -> set[str]:
    return {result.text for result in zxingcpp.read_barcodes(image)}


def test_label_png_and_svg_carry_the_bins_code(district_officer, as_user, community):
    bin_, code = make_bin(community)
    client = as_user(district_officer)

    png = client.get(f"/api/v1/bins/{bin_.pk}/label.png")
    svg = client.get(f"/api/v1/bins/{bin_.pk}/label.svg")

    assert png["Content-Type"] == "image/png"
    assert decoded_codes(Image.open(io.BytesIO(png.content))) == {code}
    assert (
        svg["Content-Type"] == "image/svg+xml"
        and b"<svg" in svg.content
        and "可回收物".encode() in svg.content
    )


def test_a_printed_label_sheet_decodes_to_working_bin_codes(district_officer, as_user, community):
    bins = [
        make_bin(community, category=c, name=f"{c}桶")[0]
        for c in ("recyclable", "kitchen", "hazardous", "other")
    ]

    response = as_user(district_officer).get(f"/api/v1/bins/labels.pdf?community={community.pk}")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # Each page of the sheet is one image stream inside the PDF: take it out and scan it like a phone.
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", response.content, re.DOTALL)
    pages = [Image.open(io.BytesIO(data)) for data in streams if data[:2] == b"\xff\xd8"]
    assert len(pages) == 1
    found = decoded_codes(pages[0])
    assert found == {bin_code(b) for b in bins}
    for scanned in found:
        resident = ResidentFactory(household__community=community)
        assert (
            as_user(resident)
            .post("/api/v1/drops", {"bin_code": scanned, **AT_BIN_JSON}, format="json")
            .status_code
            == 201
        )
    assert Drop.objects.count() == 4


def test_label_sheets_are_for_staff_of_that_district(resident, as_user, community, jian_an):
    from tests.factories import DistrictOfficerFactory

    make_bin(community)
    assert as_user(resident).get(f"/api/v1/bins/labels.pdf?community={community.pk}").status_code == 403
    other = as_user(DistrictOfficerFactory(district=jian_an))
    assert other.get(f"/api/v1/bins/labels.pdf?community={community.pk}").status_code == 400


def test_a_drop_refused_by_a_rule_stores_no_photo(resident, as_user, code, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert post_photo(as_user(resident), code, jpeg_with_gps()).status_code == 201

    again = post_photo(as_user(resident), code, jpeg_with_gps())

    assert again.json()["error"]["code"] == "too_soon"
    assert Drop.objects.count() == 1
    assert len(list(tmp_path.rglob("*.jpg"))) == 1


def test_a_label_sheet_names_its_community(district_officer, as_user):
    response = as_user(district_officer).get("/api/v1/bins/labels.pdf?community=abc")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["fields"]) == {"community"}


def test_a_bin_list_filters_by_a_whole_community_id(district_officer, as_user, community):
    make_bin(community)
    client = as_user(district_officer)

    assert len(client.get(f"/api/v1/bins?community={community.pk}").json()["results"]) == 1
    assert client.get(f"/api/v1/bins?community={community.pk}.5").status_code == 400
