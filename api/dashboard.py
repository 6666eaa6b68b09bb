# ruff: noqa: RUF001 - Chinese text uses full-width punctuation, as it should.
"""The sanitation dashboard: server pages for staff, scoped like the API, charts drawn as SVG in the browser.

The page carries its first data inline (rendered with the same serializers as the API), so it shows
numbers at once; afterwards it re-fetches the statistics endpoints whenever `/ws/stats/` says they moved.
"""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.selectors import visible_districts
from backend.categories import CATEGORY_LABELS
from stats import periods, rate, selectors
from stats.errors import BadPeriod

from .login_forms import DashboardAuthenticationForm
from .stats import DistrictSeriesOut, DistrictStatsListOut

LOGIN_URL = "/dashboard/login/"
# The dashboard runs only its own static script and style: injected markup could run nothing, load
# nothing from elsewhere, post nowhere else, and no other site may frame it.
DASHBOARD_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
DASHBOARD_ROLES = {Role.DISTRICT_OFFICER, Role.CITY_OFFICER, Role.ADMIN}

STRINGS = {
    "zh-hans": {
        "title": "生活垃圾分类 · 资源化利用率",
        "subtitle": "各区县资源化利用率与 35% 目标",
        "login": "登录",
        "logout": "退出",
        "phone": "手机号",
        "password": "密码",
        "login_failed": "手机号或密码不正确。",
        "not_staff": "仅环卫部门工作人员可查看此页面。",
        "period": "统计期间",
        "from": "从",
        "to": "至",
        "apply": "查询",
        "ranking": "各区县排名",
        "rank": "名次",
        "district": "区县",
        "rate": "资源化利用率",
        "projected": "期末预测",
        "on_track": "能否达标",
        "yes": "可达标",
        "no": "未达标",
        "unknown": "暂无数据",
        "participation": "参与率",
        "accuracy": "投放准确率",
        "collected": "清运量（吨）",
        "target": "目标 35%",
        "trend": "趋势",
        "granularity": "粒度",
        "day": "日",
        "week": "周",
        "month": "月",
        "rate_trend": "资源化利用率趋势",
        "category_trend": "分类清运量（千克）",
        "participation_trend": "参与户数与投放准确率",
        "households": "参与户数",
        "communities": "社区明细",
        "community": "社区",
        "suppressed": "户数少于 5 户，不予显示",
        "kiosks": "智能回收箱状态",
        "kiosk": "回收箱",
        "status": "状态",
        "last_seen": "最近心跳",
        "fill": "满溢度",
        "alerts": "告警",
        "no_kiosks": "暂无回收箱数据",
        "alert_fill": "满溢告警",
        "alert_silent": "离线告警",
        "disabled": "已停用",
        "live": "实时",
        "offline": "连接中断，正在重连…",
        "updated": "已更新",
        "language": "English",
    },
    "en": {
        "title": "Household waste sorting · resource-utilization rate",
        "subtitle": "Districts against the 35% target",
        "login": "Sign in",
        "logout": "Sign out",
        "phone": "Phone number",
        "password": "Password",
        "login_failed": "Wrong phone number or password.",
        "not_staff": "Only sanitation staff may see this page.",
        "period": "Period",
        "from": "From",
        "to": "to",
        "apply": "Show",
        "ranking": "Districts ranked",
        "rank": "Rank",
        "district": "District",
        "rate": "Utilization rate",
        "projected": "Projected",
        "on_track": "On track",
        "yes": "on track",
        "no": "behind",
        "unknown": "no data",
        "participation": "Participation",
        "accuracy": "Sorting accuracy",
        "collected": "Collected (t)",
        "target": "target 35%",
        "trend": "Trend",
        "granularity": "Granularity",
        "day": "day",
        "week": "week",
        "month": "month",
        "rate_trend": "Utilization rate trend",
        "category_trend": "Collected by category (kg)",
        "participation_trend": "Participating households and accuracy",
        "households": "Households",
        "communities": "Communities",
        "community": "Community",
        "suppressed": "fewer than 5 households: not shown",
        "kiosks": "Recycling kiosks",
        "kiosk": "Kiosk",
        "status": "Status",
        "last_seen": "Last heartbeat",
        "fill": "Fill levels",
        "alerts": "Alerts",
        "no_kiosks": "No kiosk data",
        "alert_fill": "nearly full",
        "alert_silent": "silent",
        "disabled": "disabled",
        "live": "live",
        "offline": "connection lost, reconnecting…",
        "updated": "updated",
        "language": "中文",
    },
}


def language(request) -> str:
    """?lang= wins, then Accept-Language (through LocaleMiddleware); Simplified Chinese by default."""
    wanted = (request.GET.get("lang") or getattr(request, "LANGUAGE_CODE", "") or "").lower()
    return "en" if wanted.startswith("en") else "zh-hans"


def _categories(lang: str) -> dict:
    return {
        str(cat.value): {"name": en if lang == "en" else zh, "colour": colour}
        for cat, (zh, en, colour) in CATEGORY_LABELS.items()
    }


@method_decorator(csp_override(DASHBOARD_CSP), name="dispatch")
class DashboardLoginView(LoginView):
    template_name = "stats/login.html"
    redirect_authenticated_user = True
    authentication_form = DashboardAuthenticationForm

    def get_success_url(self):
        return "/dashboard/"

    def get_context_data(self, **kwargs):
        lang = language(self.request)
        return super().get_context_data(**kwargs, t=STRINGS[lang], lang=lang, locked=self._locked(kwargs))

    @staticmethod
    def _locked(context) -> str | None:
        form = context.get("form")
        errors = form.non_field_errors().as_data() if form is not None and form.is_bound else []
        return next((error.messages[0] for error in errors if error.code == "login_locked"), None)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if self._locked({"form": form}):
            response.status_code = 429
        return response


@require_POST
def dashboard_logout(request):
    logout(request)
    return HttpResponseRedirect(LOGIN_URL)


@csp_override(DASHBOARD_CSP)
@login_required(login_url=LOGIN_URL)
def dashboard(request):
    lang = language(request)
    user = request.user
    if not (user.is_superuser or user.role in DASHBOARD_ROLES):
        return HttpResponseForbidden(STRINGS[lang]["not_staff"])
    try:
        start, end = periods.parse_period(request.GET.get("from"), request.GET.get("to"))
    except BadPeriod:
        start, end = periods.parse_period(None, None)
    granularity = request.GET.get("granularity")
    if granularity not in periods.GRANULARITIES:
        granularity = "month" if (end - start).days > 62 else "day"
    rows = selectors.district_rows(user, start, end)
    districts = list(visible_districts(user).order_by("id"))
    focus = districts[0].id if len(districts) == 1 else (rows[0]["district"]["id"] if rows else None)
    series = selectors.district_series(user, focus, granularity, start, end) if focus else None
    communities = selectors.community_rows(user, focus, start, end) if focus else []
    initial = {
        "stats": DistrictStatsListOut(
            {"from": start, "to": end, "target": rate.TARGET, "results": rows, "next": None, "previous": None}
        ).data,
        "series": DistrictSeriesOut(series).data if series else None,
        "communities": communities,
        "focus": focus,
        "granularity": granularity,
        "city_wide": user.is_city_wide,
        "categories": _categories(lang),
        "lang": lang,
        "t": STRINGS[lang],
        "districts": [
            {"id": d.id, "name": d.name_en if lang == "en" and d.name_en else d.name} for d in districts
        ],
    }
    return render(
        request,
        "stats/dashboard.html",
        {"t": STRINGS[lang], "lang": lang, "initial": initial, "start": start, "end": end, "user": user},
    )
