"""Printable bin labels: category colour, names in Chinese and English, the bin's name and its QR code.

Chinese text needs a CJK font; the first one found is used (GREENLOOP_LABEL_FONT, then common system
paths: Debian's fonts-wqy-microhei or fonts-noto-cjk). Without one, labels still print with Pillow's
own font, which lacks CJK glyphs.
"""

import io
import os
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from backend.categories import CATEGORY_LABELS
from backend.codes.qr import qr_image

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
]
LABEL_SIZE = (600, 840)  # 50 x 70 mm at 300 dpi
A4 = (2480, 3508)  # 210 x 297 mm at 300 dpi
GRID = (3, 3)


@cache
def _font_path() -> str | None:
    for candidate in [os.environ.get("GREENLOOP_LABEL_FONT", ""), *FONT_CANDIDATES]:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _font(size: int):
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def label_image(bin_, code: str) -> Image.Image:
    name_zh, name_en, colour = CATEGORY_LABELS[bin_.category]
    image = Image.new("RGB", LABEL_SIZE, "white")
    draw = ImageDraw.Draw(image)
    width, height = LABEL_SIZE
    draw.rectangle([0, 0, width, 190], fill=colour)
    draw.text((width // 2, 80), name_zh, fill="white", font=_font(72), anchor="mm")
    draw.text((width // 2, 150), name_en, fill="white", font=_font(36), anchor="mm")
    qr = qr_image(code, box_size=8).resize((480, 480), Image.NEAREST)
    image.paste(qr, ((width - 480) // 2, 215))
    draw.text((width // 2, 730), bin_.name, fill="black", font=_font(40), anchor="mm")
    draw.text(
        (width // 2, 790), f"#{bin_.pk} · v{bin_.label_version}", fill="#555555", font=_font(28), anchor="mm"
    )
    draw.rectangle([0, 0, width - 1, height - 1], outline=colour, width=6)
    return image


def label_png(bin_, code: str) -> bytes:
    buffer = io.BytesIO()
    label_image(bin_, code).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def sheet_pages(labelled_bins) -> list[Image.Image]:
    """A4 pages of labels, 3 x 3 per page, for `[(bin, code), ...]`."""
    per_page = GRID[0] * GRID[1]
    pages = []
    margin_x = (A4[0] - GRID[0] * LABEL_SIZE[0]) // (GRID[0] + 1)
    margin_y = (A4[1] - GRID[1] * LABEL_SIZE[1]) // (GRID[1] + 1)
    for start in range(0, max(len(labelled_bins), 1), per_page):
        page = Image.new("RGB", A4, "white")
        for index, (bin_, code) in enumerate(labelled_bins[start : start + per_page]):
            row, column = divmod(index, GRID[0])
            x = margin_x + column * (LABEL_SIZE[0] + margin_x)
            y = margin_y + row * (LABEL_SIZE[1] + margin_y)
            page.paste(label_image(bin_, code), (x, y))
        pages.append(page)
    return pages


def sheet_pdf(labelled_bins) -> bytes:
    pages = sheet_pages(labelled_bins)
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", resolution=300, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def label_svg(bin_, code: str) -> bytes:
    """The same label as vector graphics; text is left to the printer's fonts, which carry CJK."""
    from xml.sax.saxutils import escape

    from backend.codes.qr import qr_svg

    name_zh, name_en, colour = CATEGORY_LABELS[bin_.category]
    qr = qr_svg(code).decode()
    qr = qr[qr.index("<svg") :]
    qr = qr.replace("<svg", '<svg x="60" y="215" width="480" height="480"', 1)
    width, height = LABEL_SIZE
    body = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="white" stroke="{colour}" stroke-width="6"/>'
        f'<rect width="{width}" height="190" fill="{colour}"/>'
        f'<text x="{width // 2}" y="105" font-size="72" fill="white" text-anchor="middle">{escape(name_zh)}</text>'
        f'<text x="{width // 2}" y="163" font-size="36" fill="white" text-anchor="middle">{escape(name_en)}</text>'
        f"{qr}"
        f'<text x="{width // 2}" y="745" font-size="40" text-anchor="middle">{escape(bin_.name)}</text>'
        f'<text x="{width // 2}" y="800" font-size="28" fill="#555555" text-anchor="middle">'
        f"#{bin_.pk} · v{bin_.label_version}</text></svg>"
    )
    return body.encode()
