"""The demo data set: a few communities, households, residents and staff per district to explore.

Idempotent (everything is looked up by a natural key first) and refused outside DEBUG, because the
demo accounts share one published password.
"""

from decimal import Decimal

from accounts.models import Role, User
from accounts.services import issue_household_invitation, join_household
from geo.models import Community, District
from rewards.models import Memo, Reward, Shop
from rewards.services import create_reward, credit
from sorting.models import Bin

from .history import load_history

DEMO_PASSWORD = "greenloop-demo-2026"  # noqa: S105 (published on purpose; DEBUG only)
ADMIN_PHONE = "+8613800000000"

COMMUNITIES = {
    "weidu": ["七里店社区", "西关社区"],
    "jian-an": ["将官池社区"],
    "dongcheng": ["魏武社区"],
}

STAFF = [
    # phone, display name, role, district slug, inspected community names
    ("+8613900000001", "市城管局", Role.CITY_OFFICER, None, []),
    ("+8613900000002", "魏都区环卫", Role.DISTRICT_OFFICER, "weidu", []),
    ("+8613900000003", "建安区环卫", Role.DISTRICT_OFFICER, "jian-an", []),
    ("+8613900000004", "七里店督导员", Role.INSPECTOR, "weidu", ["七里店社区"]),
    ("+8613900000005", "绿色回收超市", Role.MERCHANT, "weidu", []),
]

RESIDENTS = [
    ("+8613700000001", "张三", "七里店社区", "1号楼101"),
    ("+8613700000002", "李四", "七里店社区", "1号楼101"),
    ("+8613700000003", "王五", "西关社区", "3号楼502"),
    ("+8613700000004", "赵六", "将官池社区", "8号楼203"),
    ("+8613700000005", "钱七", "魏武社区", "2号楼1101"),
]


REWARDS = [
    # name, points, stock, per-resident limit
    ("环保购物袋", 100, 200, 2),
    ("洗洁精一瓶", 300, 50, 1),
    ("公交卡充值10元", 800, 30, 1),
]


BINS = [
    ("recyclable", "可回收物桶"),
    ("kitchen", "厨余垃圾桶"),
    ("hazardous", "有害垃圾桶"),
    ("other", "其他垃圾桶"),
]


def _user(phone: str, **fields) -> tuple[User, bool]:
    user = User.objects.filter(phone=phone).first()
    if user:
        return user, False
    user = User(phone=phone, **fields)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user, True


def load_demo() -> dict:
    communities = {}
    for slug, names in COMMUNITIES.items():
        district = District.objects.get(slug=slug)
        for name in names:
            communities[name], _ = Community.objects.get_or_create(district=district, name=name)

    admin = User.objects.filter(phone=ADMIN_PHONE).first() or User.objects.create_superuser(
        ADMIN_PHONE, DEMO_PASSWORD, display_name="管理员"
    )
    staff = {}
    for phone, name, role, slug, inspected in STAFF:
        district = District.objects.get(slug=slug) if slug else None
        city = District.objects.get(slug="weidu").city if role == Role.CITY_OFFICER else None
        user, created = _user(phone, display_name=name, role=role, district=district, city=city)
        if created and inspected:
            user.communities.set([communities[c] for c in inspected])
        staff[role if role != Role.DISTRICT_OFFICER else f"{role}:{slug}"] = user

    residents = []
    for phone, name, community_name, address in RESIDENTS:
        user, created = _user(phone, display_name=name, role=Role.RESIDENT)
        if created:
            # A demo family shares one flat: the first resident there invites the next, as in the app.
            member = User.objects.filter(
                household__community=communities[community_name], household__address=address
            ).first()
            code = issue_household_invitation(user=member)[0] if member else ""
            join_household(
                user=user, community=communities[community_name], address=address, invitation_code=code
            )
        credit(
            resident=user,
            amount=500,
            cause=f"demo-welcome:{user.pk}",
            kind="adjustment",
            memo=Memo.WELCOME,
        )
        residents.append(user)

    shop, _ = Shop.objects.get_or_create(
        name="七里店绿色回收超市",
        defaults={
            "district": District.objects.get(slug="weidu"),
            "city": District.objects.get(slug="weidu").city,
        },
    )
    shop.merchants.add(staff[Role.MERCHANT])
    for name, cost, stock, limit in REWARDS:
        if not Reward.objects.filter(name=name, shop=shop).exists():
            create_reward(name=name, points_cost=cost, stock=stock, per_resident_limit=limit, shop=shop)
    for community_name, community in communities.items():
        for category, label in BINS:
            Bin.objects.get_or_create(
                community=community,
                name=f"{community_name} {label}",
                defaults={"category": category, "lat": Decimal("34.036500"), "lng": Decimal("113.852000")},
            )
    history = load_history(communities, staff[Role.CITY_OFFICER])
    return {
        "admin": admin,
        "staff": staff,
        "residents": residents,
        "communities": communities,
        "shop": shop,
        "history": history,
    }
