"""The indicators a city is judged by, each defined once: numerator and denominator as sums over typed flows.

A flow is weight that reached a stage: `collection` (received at a destination: recycling, composting,
anaerobic digestion, incineration, landfill, hazardous treatment; the tickets staff and weighbridges
record) or `deposit` (weighed by a kiosk for a resident). Only the destination stage counts in an
indicator: a deposit reaches it through the pickup that emptied its kiosk and the ticket that received
that pickup, so no kilogram is counted twice; deposit flows feed the mass balance. Every flow has a waste category and, for collections, a
destination. An indicator's numerator is the weight of the flows matching ANY of its numerator terms
(so a flow is never counted twice in one sum), its denominator likewise.

The same definition runs in Python (`Indicator.ratio`, for hand counts and tests) and as SQL over the
rollup tables (`sums_sql`); a test proves the two agree.

Targets are data (`IndicatorTarget`, per city and year, editable by city officers); the national
figures below are what a city that set none is judged by. Sources, quoted:

- The plan, table 1 (2020 targets): 生活垃圾资源化利用率 35 %, 城市餐厨废弃物资源化率 35 %,
  主要再生资源回收率 85 % (80 % in 2015).
- 住房和城乡建设部等《关于进一步推进生活垃圾分类工作的若干意见》(建城[2020]93号), as the ministry's sanitation
  research centre sums it up: "力争再用5年左右时间, 全国城市生活垃圾回收利用率达到35%以上" (2025: 35 %).
- 国家发展改革委、住房城乡建设部《"十四五"城镇生活垃圾分类和处理设施发展规划》(发改环资[2021]642号):
  "到2025年底, 全国城市生活垃圾资源化利用率达到60%左右" (2025: 资源化利用率, incineration with energy
  recovery included, 60 %).
docs/stats.md quotes them in full.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import pgettext_lazy

from backend.categories import WasteCategory

from . import rate
from .models import Destination

COLLECTION = "collection"
DEPOSIT = "deposit"
FLOW_KINDS = (COLLECTION, DEPOSIT)
# A district setting a term may depend on: read per district at query time.
INCINERATION_SETTING = "incineration_counts_as_recovery"

_CODE = re.compile(r"[a-z_]+")


def _literal(value: str) -> str:
    """A code as an SQL literal; codes are plain words, checked so."""
    if not _CODE.fullmatch(value):
        raise ValueError(f"{value!r} is not a flow, category or destination code")
    return f"'{value}'"


@dataclass(frozen=True)
class Flows:
    """A selection of typed flows: one kind, some categories and destinations (empty = any)."""

    kind: str
    categories: frozenset[str] = frozenset()
    destinations: frozenset[str] = frozenset()
    # The term counts only in districts whose statistics setting of this name is on.
    only_if_setting: str = ""

    def matches(self, kind: str, category: str, destination: str, settings: Mapping[str, bool]) -> bool:
        return (
            kind == self.kind
            and (not self.categories or category in self.categories)
            and (not self.destinations or destination in self.destinations)
            and (not self.only_if_setting or settings.get(self.only_if_setting, False))
        )

    def sql(self, *, kind: str, category: str, destination: str, settings: str) -> str:
        parts = [f"{kind} = {_literal(self.kind)}"]
        if self.categories:
            parts.append(f"{category} IN ({', '.join(_literal(c) for c in sorted(self.categories))})")
        if self.destinations:
            parts.append(f"{destination} IN ({', '.join(_literal(d) for d in sorted(self.destinations))})")
        if self.only_if_setting:
            if self.only_if_setting != INCINERATION_SETTING:
                raise ValueError(f"no district setting {self.only_if_setting!r}")
            parts.append(f"coalesce({settings}.{INCINERATION_SETTING}, false)")
        return "(" + " AND ".join(parts) + ")"

    def describe(self) -> str:
        categories = ", ".join(sorted(self.categories)) or "any category"
        destinations = ", ".join(sorted(self.destinations)) or "any destination"
        text = f"{self.kind}s of {categories}" + (f" to {destinations}" if self.kind == COLLECTION else "")
        return text + (f" (if the district's {self.only_if_setting} is on)" if self.only_if_setting else "")


def _set(*values) -> frozenset[str]:
    return frozenset(str(v) for v in values)


RECYCLABLE = _set(WasteCategory.RECYCLABLE)
KITCHEN = _set(WasteCategory.KITCHEN)
KITCHEN_TREATMENT = _set(Destination.COMPOSTING, Destination.ANAEROBIC_DIGESTION)
INCINERATION = _set(Destination.INCINERATION)

# The recovery routes of rate.py as flow terms: recyclables to recycling, kitchen waste to
# composting or digestion. Kiosk deposits are not among them: a deposited kilogram counts once, when
# the ticket of the pickup that emptied its kiosk is received at the plant (the mass balance).
RECOVERY_TERMS = tuple(
    Flows(COLLECTION, _set(category), _set(destination))
    for category, destination in sorted(rate.RECOVERY_ROUTES)
)
ALL_HANDLED = (Flows(COLLECTION),)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str  # the plan's own name, in Chinese: never translated
    label: str  # English, through gettext
    numerator: tuple[Flows, ...]
    denominator: tuple[Flows, ...]
    wording: str  # what the plan or policy says, cited
    national_targets: Mapping[int, Decimal] = field(default_factory=dict)

    def weight_of(self, terms, flows: Iterable[tuple[str, str, str, int]], settings) -> int:
        return sum(
            weight
            for kind, category, destination, weight in flows
            if any(term.matches(kind, category, destination, settings) for term in terms)
        )

    def ratio(self, flows: Iterable[tuple[str, str, str, int]], settings=None) -> rate.Utilization:
        """Numerator and denominator of (kind, category, destination, grams) flows, in Python."""
        flows = list(flows)
        settings = settings or {}
        return rate.Utilization(
            self.weight_of(self.numerator, flows, settings), self.weight_of(self.denominator, flows, settings)
        )


PLAN_UTILIZATION = Indicator(
    code="plan_utilization",
    name="生活垃圾资源化利用率",
    label=pgettext_lazy("indicator", "household waste resource utilization"),
    numerator=(
        *RECOVERY_TERMS,
        Flows(COLLECTION, destinations=INCINERATION, only_if_setting=INCINERATION_SETTING),
    ),
    denominator=ALL_HANDLED,
    wording="规划表1: 生活垃圾资源化利用率 2020年 35%",
    national_targets={2020: Decimal("0.35")},
)
KITCHEN_RESOURCING = Indicator(
    code="kitchen_resourcing",
    name="城市餐厨废弃物资源化率",
    label=pgettext_lazy("indicator", "urban kitchen waste resourcing"),
    numerator=(Flows(COLLECTION, KITCHEN, KITCHEN_TREATMENT),),
    denominator=(Flows(COLLECTION, KITCHEN),),
    wording="规划表1: 城市餐厨废弃物资源化率 2020年 35%",
    national_targets={2020: Decimal("0.35")},
)
RECYCLABLES_RECOVERY = Indicator(
    code="recyclables_recovery",
    name="主要再生资源回收率",
    label=pgettext_lazy("indicator", "main recyclables recovery"),
    numerator=(Flows(COLLECTION, RECYCLABLE, _set(Destination.RECYCLING)),),
    denominator=(Flows(COLLECTION, RECYCLABLE),),
    wording="规划表1: 主要再生资源回收率 2015年 80%, 2020年 85%",
    national_targets={2015: Decimal("0.80"), 2020: Decimal("0.85")},
)
RECYCLING = Indicator(
    code="recycling",
    name="生活垃圾回收利用率",
    label=pgettext_lazy("indicator", "household waste recycling (incineration excluded)"),
    numerator=RECOVERY_TERMS,
    denominator=ALL_HANDLED,
    wording="建城[2020]93号: 城市生活垃圾回收利用率达到35%以上 (2025)",
    national_targets={2025: Decimal("0.35")},
)
RESOURCE_UTILIZATION = Indicator(
    code="resource_utilization",
    name="生活垃圾资源化利用率(含焚烧)",
    label=pgettext_lazy("indicator", "household waste resource utilization (incineration included)"),
    numerator=(*RECOVERY_TERMS, Flows(COLLECTION, destinations=INCINERATION)),
    denominator=ALL_HANDLED,
    wording="发改环资[2021]642号: 到2025年底, 全国城市生活垃圾资源化利用率达到60%左右",
    national_targets={2025: Decimal("0.60")},
)

# In the order answers list them; the first is the one `utilization_rate`, `target` and `on_track`
# have always meant.
INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (PLAN_UTILIZATION, KITCHEN_RESOURCING, RECYCLABLES_RECOVERY, RECYCLING, RESOURCE_UTILIZATION)
}
PRIMARY = PLAN_UTILIZATION.code
PLAN_INDICATORS = (PLAN_UTILIZATION.code, KITCHEN_RESOURCING.code, RECYCLABLES_RECOVERY.code)
CHOICES = [(code, i.name) for code, i in INDICATORS.items()]


def target_in_force(targets: Mapping[int, Decimal], year: int) -> tuple[int, Decimal] | None:
    """The target a period ending in `year` is judged by: the first target year at or after it (the
    goal being worked towards), past the last one the last one; None when there is none."""
    if not targets:
        return None
    ahead = [y for y in targets if y >= year]
    chosen = min(ahead) if ahead else max(targets)
    return chosen, targets[chosen]


# ---- SQL over the rollups ------------------------------------------------------------------------


def sums_sql(*, flows: str, settings: str = "s") -> str:
    """Per indicator, numerator and denominator sums over `flows` (alias f: kind, category,
    destination, weight_g) joined to the district settings `settings`, in INDICATORS order."""
    columns = []
    for indicator in INDICATORS.values():
        for terms in (indicator.numerator, indicator.denominator):
            condition = " OR ".join(
                term.sql(
                    kind=f"{flows}.kind",
                    category=f"{flows}.category",
                    destination=f"{flows}.destination",
                    settings=settings,
                )
                for term in terms
            )
            columns.append(f"coalesce(sum({flows}.weight_g) FILTER (WHERE {condition}), 0)::bigint")
    return ", ".join(columns)


def ratios_from_row(values) -> dict[str, rate.Utilization]:
    """The sums of `sums_sql`, in order, as a ratio per indicator code."""
    values = [int(v) for v in values]
    return {code: rate.Utilization(values[2 * i], values[2 * i + 1]) for i, code in enumerate(INDICATORS)}


def collection_filter(terms: tuple[Flows, ...], settings: Mapping[str, bool]):
    """The collections (Collection rows) a side of an indicator sums, as a Q: the same terms as above."""
    matched = Q(pk__in=[])
    for term in terms:
        if term.kind != COLLECTION or (
            term.only_if_setting and not settings.get(term.only_if_setting, False)
        ):
            continue
        condition = Q()
        if term.categories:
            condition &= Q(category__in=sorted(term.categories))
        if term.destinations:
            condition &= Q(destination__in=sorted(term.destinations))
        matched |= condition
    return matched


# ---- the district-day rollup of every indicator (DistrictIndicatorDay.sums) ------------------------
# Per indicator, three sums: the numerator's terms that always count, the numerator's terms that count
# only when the district's setting is on (and no unconditional term took the flow), the denominator.
# The setting is read at query time, so changing it needs no rebuild.

for _indicator in INDICATORS.values():
    if any(term.only_if_setting for term in _indicator.denominator):
        raise ValueError(
            f"{_indicator.code}: a denominator term depends on a setting; the rollup cannot hold it"
        )

SUMS_PER_INDICATOR = 3
SUMS_LENGTH = SUMS_PER_INDICATOR * len(INDICATORS)


def _split(terms: tuple[Flows, ...]) -> tuple[tuple[Flows, ...], tuple[Flows, ...]]:
    return tuple(t for t in terms if not t.only_if_setting), tuple(t for t in terms if t.only_if_setting)


def contribution(kind: str, category: str, destination: str, weight_g: int) -> list[int]:
    """What one flow adds to the rollup's sums, in Python (the collection's own transaction writes it)."""
    on = {INCINERATION_SETTING: True}
    sums = []
    for indicator in INDICATORS.values():
        always, if_setting = _split(indicator.numerator)
        plain = any(t.matches(kind, category, destination, {}) for t in always)
        conditional = not plain and any(t.matches(kind, category, destination, on) for t in if_setting)
        counted = any(t.matches(kind, category, destination, {}) for t in indicator.denominator)
        sums += [weight_g if plain else 0, weight_g if conditional else 0, weight_g if counted else 0]
    return sums


def contribution_sql(*, kind: str, category: str, destination: str, weight: str) -> str:
    """The same as `contribution`, as an SQL array of sums over a group of flow rows."""

    def condition(terms, settings_on: bool) -> str:
        if not terms:
            return "false"
        return " OR ".join(
            term.sql(kind=kind, category=category, destination=destination, settings="s").replace(
                f"coalesce(s.{INCINERATION_SETTING}, false)", "true" if settings_on else "false"
            )
            for term in terms
        )

    parts = []
    for indicator in INDICATORS.values():
        always, if_setting = _split(indicator.numerator)
        plain = condition(always, False)
        parts += [
            f"coalesce(sum({weight}) FILTER (WHERE {plain}), 0)::bigint",
            f"coalesce(sum({weight}) FILTER (WHERE NOT ({plain}) AND ({condition(if_setting, True)})), 0)::bigint",
            f"coalesce(sum({weight}) FILTER (WHERE {condition(indicator.denominator, False)}), 0)::bigint",
        ]
    return "ARRAY[" + ", ".join(parts) + "]"
