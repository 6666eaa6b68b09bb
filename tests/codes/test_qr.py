import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from backend.codes.qr import qr_image, qr_png, qr_svg
from backend.codes.signing import BIN, RESIDENT, sign, verify

from .decoding import decode_qr_png, rasterise_qr_svg


@pytest.mark.parametrize("kind", [BIN, RESIDENT])
def test_a_qr_png_scans_back_to_a_code_that_verifies(kind):
    code = sign(kind, {"id": 12345})

    png = qr_png(code)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_qr_png(png) == code
    assert verify(kind, decode_qr_png(png)) == {"id": 12345}


def test_the_box_size_scales_the_png():
    small = Image.open(io.BytesIO(qr_png("hello", box_size=4)))
    large = Image.open(io.BytesIO(qr_png("hello", box_size=12)))

    assert large.size[0] == small.size[0] * 3
    assert decode_qr_png(qr_png("hello", box_size=4)) == "hello"


def test_qr_image_is_an_rgb_pillow_image_for_label_sheets():
    image = qr_image("label")

    assert image.mode == "RGB"
    assert image.size[0] == image.size[1] > 0


def test_a_qr_svg_is_well_formed_svg_with_a_drawing():
    svg = qr_svg(sign(BIN, {"id": 1}))

    root = ET.fromstring(svg)  # noqa: S314 (our own renderer's output, not untrusted input)
    assert root.tag.endswith("svg")
    assert root.get("viewBox") or (root.get("width") and root.get("height"))
    paths = [el for el in root.iter() if el.tag.endswith("path")]
    assert paths and len(paths[0].get("d", "")) > 100


def test_a_qr_svg_scans_back_to_the_code():
    code = sign(BIN, {"id": 1})

    decoded = decode_qr_png(rasterise_qr_svg(qr_svg(code)))

    assert decoded == code
    assert verify(BIN, decoded) == {"id": 1}
