"""QR rendering of codes as PNG and SVG with qrcode and Pillow."""

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(data: str) -> qrcode.QRCode:
    # Medium error correction survives scuffed outdoor labels without making codes too dense to scan.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_image(data: str, *, box_size: int = 10):
    """A Pillow image of the QR code, for composing label sheets."""
    qr = _qr(data)
    qr.box_size = box_size
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def qr_png(data: str, *, box_size: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_image(data, box_size=box_size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
