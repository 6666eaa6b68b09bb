"""Default materials (recyclables and hazardous items accepted by kiosks)."""

DEFAULT_MATERIALS = [
    # code, name, English name, category, points per kg, min g, max g
    ("paper", "纸类", "Paper", "recyclable", 20, 50, 50_000),
    ("plastic", "塑料", "Plastic", "recyclable", 30, 10, 30_000),
    ("glass", "玻璃", "Glass", "recyclable", 10, 50, 50_000),
    ("metal", "金属", "Metal", "recyclable", 40, 10, 50_000),
    ("textile", "纺织物", "Textiles", "recyclable", 15, 100, 50_000),
    ("e-waste", "电子废弃物", "E-waste", "recyclable", 50, 50, 30_000),
    ("batteries", "废电池", "Batteries", "hazardous", 100, 5, 5_000),
    ("lamps", "废灯管", "Lamps", "hazardous", 80, 20, 5_000),
    ("medicines", "过期药品", "Medicines", "hazardous", 60, 5, 5_000),
]


def load_default_materials(material_model) -> None:
    for code, name, name_en, category, per_kg, low, high in DEFAULT_MATERIALS:
        material_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "category": category,
                "points_per_kg": per_kg,
                "min_weight_g": low,
                "max_weight_g": high,
            },
        )
