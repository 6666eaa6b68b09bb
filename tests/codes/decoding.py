"""Reading QR images back, as a phone camera would, to prove a rendered code scans."""

import io

import zxingcpp
from PIL import Image


def decode_qr_png(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, "exactly one QR code expected in the image"
    return results[0].text


def rasterise_qr_svg(svg: bytes, scale: int = 8) -> bytes:
    """PNG of a qrcode path SVG: each `M x,y H.. V.. H.. z` square is one dark module."""
    import re
    import xml.etree.ElementTree as ET

    from PIL import ImageDraw

    root = ET.fromstring(svg)  # noqa: S314 (our own renderer's output, not untrusted input)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    for element in root.iter():
        if element.tag.endswith("path"):
            for x, y in re.findall(r"M([\d.]+),([\d.]+)", element.get("d", "")):
                left, top = float(x) * scale, float(y) * scale
                draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
