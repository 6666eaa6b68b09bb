"""Peak memory of preparing one drop photo, per kind of upload, each in a fresh process.

    DEBUG=1 DATABASE_URL=postgres://unused/unused .venv/bin/python benchmarks/uploads/run.py [--json]

Prints the resident set's high-water mark above the process's baseline (MB) and the time each upload
took to accept or refuse. A 40 MP JPEG is decoded at the decoder's reduced scale; a 40 MP PNG is
refused from its header; a 16 MP PNG is the largest full-size decode allowed.
"""

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ["jpeg_40mp", "png_40mp_header", "png_16mp", "jpeg_2mp"]


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _encoded(case: str) -> bytes:
    from PIL import Image

    if case == "png_40mp_header":
        return _png_header_only(7600, 5200)
    size, kind = {
        "jpeg_40mp": ((7600, 5200), "JPEG"),
        "png_16mp": ((4600, 3450), "PNG"),
        "jpeg_2mp": ((1920, 1080), "JPEG"),
    }[case]
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, format=kind)
    return buffer.getvalue()


def _high_water_kb() -> int:
    # VmHWM belongs to this process's own memory map; ru_maxrss would carry the parent's across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(case: str, upload_path: str) -> dict:
    """Run in a child: read the prepared upload from disk, so building it costs the child nothing."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sorting.errors import BadImage
    from sorting.photos import prepared_photo

    upload = SimpleUploadedFile("photo", Path(upload_path).read_bytes())
    baseline = _high_water_kb()
    started = time.perf_counter()
    try:
        outcome = f"accepted, {len(prepared_photo(upload)) // 1024} KB stored"
    except BadImage as exc:
        outcome = f"refused: {exc.message}"
    elapsed = time.perf_counter() - started
    peak = _high_water_kb()
    return {
        "case": case,
        "peak_mb_above_baseline": round((peak - baseline) / 1024, 1),
        "seconds": round(elapsed, 3),
        "outcome": str(outcome),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return 0
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            path = Path(folder) / case
            path.write_bytes(_encoded(case))
            child = subprocess.run(
                [sys.executable, __file__, "--child", case, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(
                {
                    **json.loads(child.stdout.strip().splitlines()[-1]),
                    "upload_kb": path.stat().st_size // 1024,
                }
            )
    if args.json:
        print(json.dumps({"uploads": results}))
    else:
        for row in results:
            print(
                f"{row['case']:<16} upload {row['upload_kb']:>6} KB  peak +{row['peak_mb_above_baseline']:>6} MB  {row['seconds']:>6} s  {row['outcome']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
