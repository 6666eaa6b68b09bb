"""The CSV export: streamed, one row per district and day, scoped like the API."""

import csv
import io
from datetime import date

import pytest
from django.http import StreamingHttpResponse

from api.stats import EXPORT_COLUMNS

from .factories import record

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_has_a_row_per_district_and_day_with_the_rate(as_user, city_officer, weidu, jian_an):
    record(city_officer, weidu, "recyclable", 300, "recycling", date(2026, 3, 10))
    record(city_officer, weidu, "other", 700, "landfill", date(2026, 3, 10))
    record(city_officer, weidu, "kitchen", 250.5, "composting", date(2026, 3, 11))
    record(city_officer, jian_an, "other", 10, "landfill", date(2026, 3, 10))

    response = as_user(city_officer).get(
        "/api/v1/stats/export.csv", {"from": "2026-03-01", "to": "2026-03-31"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert list(rows[0]) == EXPORT_COLUMNS
    assert [(r["date"], r["district"]) for r in rows] == [
        ("2026-03-10", "魏都区"),
        ("2026-03-10", "建安区"),
        ("2026-03-11", "魏都区"),
    ]
    first = rows[0]
    assert (first["collected_recyclable_kg"], first["collected_other_kg"]) == ("300.0", "700.0")
    assert (first["recovered_kg"], first["handled_kg"], first["utilization_rate"]) == (
        "300.0",
        "1000.0",
        "0.3",
    )
    assert rows[1]["utilization_rate"] == "0.0"
    assert (rows[2]["collected_kitchen_kg"], rows[2]["utilization_rate"]) == ("250.5", "1.0")


def test_a_district_officer_exports_only_their_district(
    as_user, city_officer, district_officer, weidu, jian_an
):
    record(city_officer, weidu, "other", 1, "landfill", date(2026, 3, 10))
    record(city_officer, jian_an, "other", 1, "landfill", date(2026, 3, 10))

    rows = _csv(
        as_user(district_officer).get("/api/v1/stats/export.csv", {"from": "2026-03-01", "to": "2026-03-31"})
    )

    assert {r["district_id"] for r in rows} == {str(weidu.id)}


def test_the_export_leaves_out_days_outside_the_period(as_user, city_officer, weidu):
    record(city_officer, weidu, "other", 1, "landfill", date(2026, 2, 28))

    rows = _csv(
        as_user(city_officer).get("/api/v1/stats/export.csv", {"from": "2026-03-01", "to": "2026-03-31"})
    )

    assert rows == []


def test_a_name_that_starts_like_a_formula_is_written_as_text(as_user, city_officer, weidu):
    # A district renamed by an administrator to a formula must not run in the reader's spreadsheet.
    weidu.name = '=HYPERLINK("http://example.invalid","x")'
    weidu.save()
    record(city_officer, weidu, "other", 5, "landfill", date(2026, 3, 10))

    rows = _csv(
        as_user(city_officer).get("/api/v1/stats/export.csv", {"from": "2026-03-01", "to": "2026-03-31"})
    )

    assert rows[0]["district"] == '\'=HYPERLINK("http://example.invalid","x")'
    assert rows[0]["collected_other_kg"] == "5.0"
