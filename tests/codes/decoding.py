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
