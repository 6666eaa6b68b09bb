"""The sanitation dashboard: server pages for staff, scoped like the API, charts drawn as SVG in the browser.

The page carries its first data inline (rendered with the same serializers as the API), so it shows
numbers at once; afterwards it re-fetches the statistics endpoints whenever `/ws/stats/` says they moved.
"""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.utils.translation import pgettext_lazy
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from accounts.models import OFFICER_ROLES
from accounts.selectors import visible_districts
from backend.categories import CATEGORY_LABELS
from sorting import selectors as sorting_selectors
from stats import selectors
from stats.errors import BadPeriod

from .inspectors import InspectorQualityOut
from .login_forms import DashboardAuthenticationForm
from .stats import CommunityStatsOut, DistrictSeriesOut, DistrictStatsListOut, carbon_context

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

# Page texts by key (the page's script reads them by key too); English is the source language.
STRINGS = {
    "title": pgettext_lazy("dashboard", "Household waste sorting · resource-utilization rate"),
    "subtitle": pgettext_lazy("dashboard", "Districts against the %(target)s target"),
    "login": pgettext_lazy("dashboard", "Sign in"),
    "logout": pgettext_lazy("dashboard", "Sign out"),
    "phone": pgettext_lazy("dashboard", "Phone number"),
    "password": pgettext_lazy("dashboard", "Password"),
    "login_failed": pgettext_lazy("dashboard", "Wrong phone number or password."),
    "not_staff": pgettext_lazy("dashboard", "Only sanitation staff may see this page."),
    "period": pgettext_lazy("dashboard", "Period"),
    "from": pgettext_lazy("dashboard", "From"),
    "to": pgettext_lazy("dashboard", "to"),
    "apply": pgettext_lazy("dashboard", "Show"),
    "ranking": pgettext_lazy("dashboard", "Districts ranked"),
    "rank": pgettext_lazy("dashboard", "Rank"),
    "district": pgettext_lazy("dashboard", "District"),
    "rate": pgettext_lazy("dashboard", "Utilization rate"),
    "projected": pgettext_lazy("dashboard", "Projected"),
    "on_track": pgettext_lazy("dashboard", "On track"),
    "yes": pgettext_lazy("dashboard", "on track"),
    "no": pgettext_lazy("dashboard", "behind"),
    "unknown": pgettext_lazy("dashboard", "no data"),
    "participation": pgettext_lazy("dashboard", "Participation"),
    "accuracy": pgettext_lazy("dashboard", "Sorting accuracy"),
    "collected": pgettext_lazy("dashboard", "Collected (t)"),
    "co2e": pgettext_lazy("dashboard", "CO2e avoided (t)"),
    "inspectors": pgettext_lazy("dashboard", "Inspector quality"),
    "inspector": pgettext_lazy("dashboard", "Inspector"),
    "verdicts": pgettext_lazy("dashboard", "Verdicts"),
    "correct_share": pgettext_lazy("dashboard", "Judged correct"),
    "median_time": pgettext_lazy("dashboard", "Median time to verdict"),
    "auto_accepted": pgettext_lazy("dashboard", "Left to auto-accept"),
    "agreement": pgettext_lazy("dashboard", "Agreement on re-inspection"),
    "no_inspectors": pgettext_lazy("dashboard", "No inspector in this district"),
    "reinspect": pgettext_lazy("dashboard", "Ask for a blind re-inspection of"),
    "drops": pgettext_lazy("dashboard", "drops"),
    "requested": pgettext_lazy("dashboard", "Sample requested: %(n)s drops drawn"),
    "nothing_to_sample": pgettext_lazy("dashboard", "No graded drop to draw in this period"),
    "target_word": pgettext_lazy("dashboard", "target"),
    "target_column": pgettext_lazy("dashboard", "Target"),
    "indicator": pgettext_lazy("dashboard", "Indicator"),
    "indicators": pgettext_lazy("dashboard", "Plan indicators against their targets"),
    "value": pgettext_lazy("dashboard", "Value"),
    "trend": pgettext_lazy("dashboard", "Trend"),
    "granularity": pgettext_lazy("dashboard", "Granularity"),
    "day": pgettext_lazy("dashboard", "day"),
    "week": pgettext_lazy("dashboard", "week"),
    "month": pgettext_lazy("dashboard", "month"),
    "rate_trend": pgettext_lazy("dashboard", "Utilization rate trend"),
    "category_trend": pgettext_lazy("dashboard", "Collected by category (kg)"),
    "participation_trend": pgettext_lazy("dashboard", "Participating households and accuracy"),
    "households": pgettext_lazy("dashboard", "Households"),
    "communities": pgettext_lazy("dashboard", "Communities"),
    "community": pgettext_lazy("dashboard", "Community"),
    "suppressed": pgettext_lazy("dashboard", "fewer than %(households)d households: not shown"),
    "kiosks": pgettext_lazy("dashboard", "Recycling kiosks"),
    "kiosk": pgettext_lazy("dashboard", "Kiosk"),
    "status": pgettext_lazy("dashboard", "Status"),
    "last_seen": pgettext_lazy("dashboard", "Last heartbeat"),
    "fill": pgettext_lazy("dashboard", "Fill levels"),
    "alerts": pgettext_lazy("dashboard", "Alerts"),
    "no_kiosks": pgettext_lazy("dashboard", "No kiosk data"),
    "alert_fill": pgettext_lazy("dashboard", "nearly full"),
    "alert_silent": pgettext_lazy("dashboard", "silent"),
    "disabled": pgettext_lazy("dashboard", "disabled"),
    "live": pgettext_lazy("dashboard", "live"),
    "offline": pgettext_lazy("dashboard", "connection lost, reconnecting…"),
    "updated": pgettext_lazy("dashboard", "updated"),
}
# The link to the other language names it in that language, so it is never translated.
OTHER_LANGUAGE = {"zh-hans": "English", "en": "中文"}


def page_texts(lang: str, *, target: float | None = None) -> dict[str, str]:
    """Every page text in `lang`, the figures they state filled in from the data and the constants.

    Without a target (the login page) the texts that state it are left out.
    """
    with translation.override(lang):
        texts = {key: str(text) for key, text in STRINGS.items()}
    texts["suppressed"] %= {"households": selectors.min_cell_households()}
    if target is None:
        del texts["subtitle"]
    else:
        texts["subtitle"] %= {"target": f"{target:.0%}"}
    return texts | {"language": OTHER_LANGUAGE[lang]}


def language(request) -> str:
    """?lang= wins, then Accept-Language (through LocaleMiddleware); Simplified Chinese by default."""
    wanted = (request.GET.get("lang") or getattr(request, "LANGUAGE_CODE", "") or "").lower()
    return "en" if wanted.startswith("en") else "zh-hans"


def _categories(lang: str) -> dict:
    return {
        str(cat.value): {"name": en if lang == "en" else zh, "colour": colour}
        for cat, (zh, en, colour) in CATEGORY_LABELS.items()
    }


def indicator_names(lang: str) -> list[dict]:
    """The plan's own Chinese names; in English the translated label."""
    with translation.override(lang):
        return [
            {"code": i.code, "name": str(i.label) if lang == "en" else i.name} for i in selectors.INDICATORS
        ]


@method_decorator(csp_override(DASHBOARD_CSP), name="dispatch")
class DashboardLoginView(LoginView):
    template_name = "stats/login.html"
    redirect_authenticated_user = True
    authentication_form = DashboardAuthenticationForm

    def get_success_url(self):
        return "/dashboard/"

    def get_context_data(self, **kwargs):
        lang = language(self.request)
        return super().get_context_data(**kwargs, t=page_texts(lang), lang=lang, locked=self._locked(kwargs))

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
    if not (user.is_superuser or user.role in OFFICER_ROLES):
        return HttpResponseForbidden(page_texts(lang)["not_staff"])
    try:
        start, end = selectors.parse_period(request.GET.get("from"), request.GET.get("to"))
    except BadPeriod:
        start, end = selectors.parse_period(None, None)
    granularity = request.GET.get("granularity")
    if granularity not in selectors.GRANULARITIES:
        granularity = "month" if (end - start).days > 62 else "day"
    table = selectors.district_table(user, start, end)
    districts = list(visible_districts(user).order_by("id"))
    focus = districts[0].id if len(districts) == 1 else (table.rows[0].district.id if table.rows else None)
    series = selectors.district_series(user, focus, granularity, start, end) if focus else None
    communities = selectors.community_rows(user, focus, start, end) if focus else []
    inspectors = (
        sorting_selectors.inspector_quality(user, first=start, last=end, district_id=focus) if focus else []
    )
    texts = page_texts(lang, target=table.target)
    initial = {
        "stats": DistrictStatsListOut(table, context={"carbon": table.carbon}).data,
        "series": DistrictSeriesOut(series).data if series else None,
        "communities": CommunityStatsOut(
            communities,
            many=True,
            context=carbon_context([focus], start, end, by="community_id") if focus else {},
        ).data,
        "inspectors": InspectorQualityOut(inspectors, many=True).data,
        # Only district officers (and city officers, for the district in focus) may ask for samples.
        "can_reinspect": user.role in OFFICER_ROLES,
        "focus": focus,
        "granularity": granularity,
        "city_wide": user.is_city_wide,
        "categories": _categories(lang),
        "lang": lang,
        "t": texts,
        "indicators": indicator_names(lang),
        "districts": [
            {"id": d.id, "name": d.name_en if lang == "en" and d.name_en else d.name} for d in districts
        ],
    }
    return render(
        request,
        "stats/dashboard.html",
        {"t": texts, "lang": lang, "initial": initial, "start": start, "end": end, "user": user},
    )
