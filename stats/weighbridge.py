"""Weighbridge CSV exports: parse each row into collection values or a per-row error.

Columns (header row required, English or Chinese names, any order):
district (区/district_id: id, national code, slug or name), community (社区, optional: id or name),
category (类别: recyclable|kitchen|hazardous|other or 可回收物|厨余垃圾|有害垃圾|其他垃圾),
weight_kg (重量kg), date (日期, YYYY-MM-DD), destination (去向: recycling|composting|
anaerobic_digestion|incineration|landfill or 回收利用|堆肥|厌氧消化|焚烧|填埋), reference (单号, optional:
the weighbridge ticket number; a reference is imported once per district).
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _

from backend.categories import CATEGORY_LABELS, WasteCategory
from geo.models import Community, District

from .errors import BadCsv
from .models import Destination
from .values import CollectionValues

MAX_ROWS = 5000

HEADER_ALIASES = {
    "district": "district",
    "district_id": "district",
    "区": "district",
    "区县": "district",
    "community": "community",
    "community_id": "community",
    "社区": "community",
    "category": "category",
    "类别": "category",
    "weight_kg": "weight_kg",
    "重量kg": "weight_kg",
    "重量(kg)": "weight_kg",
    "净重kg": "weight_kg",
    "date": "date",
    "日期": "date",
    "destination": "destination",
    "去向": "destination",
    "reference": "reference",
    "单号": "reference",
    "磅单号": "reference",
}
REQUIRED = {"district", "category", "weight_kg", "date", "destination"}

CATEGORY_NAMES = {v.value: v.value for v in WasteCategory} | {
    zh: cat.value for cat, (zh, _en, _colour) in CATEGORY_LABELS.items()
}
DESTINATION_NAMES = {v.value: v.value for v in Destination} | {
    "回收利用": Destination.RECYCLING,
    "资源化利用": Destination.RECYCLING,
    "堆肥": Destination.COMPOSTING,
    "厌氧消化": Destination.ANAEROBIC_DIGESTION,
    "焚烧": Destination.INCINERATION,
    "焚烧发电": Destination.INCINERATION,
    "填埋": Destination.LANDFILL,
}


@dataclass(frozen=True)
class ParsedRow:
    line: int
    values: CollectionValues | None
    errors: dict[str, list[str]]


def _district(raw: str, cache: dict) -> District | None:
    if raw not in cache:
        query = Q(slug=raw) | Q(name=raw) | Q(admin_code=raw)
        if raw.isdigit() and len(raw) < 10:
            query |= Q(pk=int(raw))
        cache[raw] = District.objects.filter(query).first()
    return cache[raw]


def _community(raw: str, district: District) -> Community | None:
    query = Q(name=raw)
    if raw.isdigit():
        query |= Q(pk=int(raw))
    return Community.objects.filter(query, district=district).first()


def _parse_row(line: int, row: dict[str, str], districts: dict) -> ParsedRow:
    errors: dict[str, list[str]] = {}
    district = _district(row.get("district", ""), districts)
    if district is None:
        errors["district"] = [_("Unknown district.")]
    community = None
    if row.get("community") and district is not None:
        community = _community(row["community"], district)
        if community is None:
            errors["community"] = [_("Unknown community in that district.")]
    category = CATEGORY_NAMES.get(row.get("category", ""))
    if category is None:
        errors["category"] = [_("Unknown category.")]
    destination = DESTINATION_NAMES.get(row.get("destination", ""))
    if destination is None:
        errors["destination"] = [_("Unknown destination.")]
    weight_g = 0
    try:
        weight_g = int((Decimal(row.get("weight_kg", "").replace(",", "")) * 1000).to_integral_value())
        if weight_g <= 0:
            errors["weight_kg"] = [_("The weight must be positive.")]
    except InvalidOperation:
        errors["weight_kg"] = [_("Not a number.")]
    day = None
    try:
        day = date.fromisoformat(row.get("date", "").replace("/", "-"))
    except ValueError:
        errors["date"] = [_("Not a date (YYYY-MM-DD).")]
    if errors:
        return ParsedRow(line, None, errors)
    return ParsedRow(
        line,
        CollectionValues(
            district=district,
            community=community,
            category=str(category),
            weight_g=weight_g,
            date=day,
            destination=str(destination),
            reference=row.get("reference", "")[:100],
        ),
        {},
    )


def parse(data: bytes) -> list[ParsedRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # spreadsheets on Chinese Windows save GBK/GB18030
        except UnicodeDecodeError as exc:
            raise BadCsv(_("The file is neither UTF-8 nor GB18030 text.")) from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise BadCsv(_("The file is empty.")) from exc
    columns = [HEADER_ALIASES.get(name.strip().lower(), HEADER_ALIASES.get(name.strip())) for name in header]
    missing = REQUIRED - set(columns)
    if missing:
        raise BadCsv(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))},
            fields={"file": sorted(missing)},
        )
    rows = []
    districts: dict = {}
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise BadCsv(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
            row = {col: cell.strip() for col, cell in zip(columns, cells, strict=False) if col}
            rows.append(_parse_row(line, row, districts))
    except csv.Error as exc:
        raise BadCsv(_("The file is not valid CSV: %(error)s") % {"error": exc}) from exc
    return rows
