"""Xuchang reference geography: the city, its districts and their national administrative codes."""

XUCHANG = {"name": "许昌市", "name_en": "Xuchang", "admin_code": "411000"}

XUCHANG_DISTRICTS = [
    # (slug, name, English name, national code or None, kind)
    ("weidu", "魏都区", "Weidu District", "411002", "district"),
    ("jian-an", "建安区", "Jian'an District", "411003", "district"),
    ("yanling", "鄢陵县", "Yanling County", "411024", "county"),
    ("xiangcheng", "襄城县", "Xiangcheng County", "411025", "county"),
    ("yuzhou", "禹州市", "Yuzhou City", "411081", "county_city"),
    ("changge", "长葛市", "Changge City", "411082", "county_city"),
    ("dongcheng", "东城区", "Dongcheng District", None, "zone"),
    ("urban-rural-demo", "城乡一体化示范区", "Urban-Rural Integration Demonstration Zone", None, "zone"),
    ("economic-dev", "经济技术开发区", "Economic and Technological Development Zone", None, "zone"),
]


def load_xuchang(city_model, district_model):
    """Create or update the Xuchang rows; safe to run any number of times."""
    city, _ = city_model.objects.update_or_create(
        admin_code=XUCHANG["admin_code"], defaults={"name": XUCHANG["name"], "name_en": XUCHANG["name_en"]}
    )
    for slug, name, name_en, code, kind in XUCHANG_DISTRICTS:
        district_model.objects.update_or_create(
            slug=slug,
            defaults={"city": city, "name": name, "name_en": name_en, "admin_code": code, "kind": kind},
        )
    return city
