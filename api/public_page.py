"""The public supervision page: no login, Chinese first (English by Accept-Language or ?lang=en),
the same figures as /public/data/ rendered in the browser by the dashboard's kind of SVG charts."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET
from rest_framework.exceptions import Throttled, ValidationError

from backend.errors import NotFound

from .dashboard import DASHBOARD_CSP, indicator_names, language
from .public import check_throttle, published

# Texts are few and the page is public: both languages live here, Chinese first.
TEXTS = {
    "title": ("生活垃圾分类 · 公众监督", "Household waste sorting · public supervision"),
    "subtitle": ("%(city)s %(year)s 年各项规划指标", "%(city)s, plan indicators of %(year)s"),
    "indicators": ("规划指标完成情况", "Plan indicators against their targets"),
    "place": ("地区", "Area"),
    "districts_by": ("各区县指标", "Districts by indicator"),
    "city_row": ("全市", "Whole city"),
    "indicator": ("指标", "Indicator"),
    "value": ("当前值", "Value"),
    "target": ("目标", "Target"),
    "projected": ("预计", "Projected"),
    "on_track": ("是否达标", "On track"),
    "yes": ("可达标", "on track"),
    "no": ("未达标", "behind"),
    "unknown": ("暂无数据", "no data"),
    "trend": ("月度趋势", "Trend by month"),
    "kiosks": ("智能回收箱运行情况与减碳量", "Recycling kiosks and CO2e avoided"),
    "in_service": ("运行中", "In service"),
    "out_of_service": ("停用或失联", "Out of service"),
    "ranking": ("社区排名 (参与率、分类准确率)", "Communities ranked by participation and accuracy"),
    "rank": ("名次", "Rank"),
    "community": ("社区", "Community"),
    "participation": ("参与率", "Participation"),
    "accuracy": ("分类准确率", "Sorting accuracy"),
    "households": ("户数", "Households"),
    "withheld": (
        "不足 %(k)d 户的社区不公布数据, 共 %(n)d 个",
        "%(n)d communities under %(k)d households not shown",
    ),
    "privacy": (
        "为保护居民隐私, 不足 %(k)d 户的数据不公布, 也不公布可推算出单户情况的合计.",
        "To protect residents, no figure of fewer than %(k)d households is published, nor any total from which one household could be worked out.",
    ),
    "open_data": ("开放数据 (CSV、JSON)", "Open data (CSV, JSON)"),
    "year": ("年份", "Year"),
    "apply": ("查看", "Show"),
    "withheld_cell": ("不公布", "not shown"),
    "co2e": ("减碳量 (千克 CO2e)", "CO2e avoided (kg)"),
}
OTHER_LANGUAGE = {"zh-hans": "English", "en": "中文"}


def texts_for(lang: str, meta: dict) -> dict[str, str]:
    index = 1 if lang == "en" else 0
    texts = {key: pair[index] for key, pair in TEXTS.items()}
    city = meta["city"]["name_en"] if lang == "en" and meta["city"]["name_en"] else meta["city"]["name"]
    texts["subtitle"] %= {"city": city, "year": meta["year"]}
    texts["withheld"] %= {"k": meta["min_households"], "n": meta["withheld_communities"]}
    texts["privacy"] %= {"k": meta["min_households"]}
    return texts | {"language": OTHER_LANGUAGE[lang]}


@require_GET
@csp_override(DASHBOARD_CSP)
def public_page(request):
    lang = language(request)
    try:
        check_throttle(request)
        found = published(request)
    except Throttled as exc:
        response = HttpResponse("Too many requests", status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(int(exc.wait or 60))
        return response
    except ValidationError:
        return HttpResponse("Bad year or city", status=400, content_type="text/plain; charset=utf-8")
    except NotFound:
        return HttpResponse("No such city", status=404, content_type="text/plain; charset=utf-8")
    meta, rows = found["meta"], found["rows"]
    texts = texts_for(lang, meta)
    initial = {
        "lang": lang,
        "t": texts,
        "year": meta["year"],
        "city": meta["city"],
        "indicators": indicator_names(lang),
        "places": rows["places"],
        "figures": rows["indicators"],
        "months": rows["months"],
        "communities": rows["communities"],
    }
    response = render(
        request, "stats/public.html", {"t": texts, "lang": lang, "initial": initial, "year": meta["year"]}
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Language, Accept-Encoding"
    return response
