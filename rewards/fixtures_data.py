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


# kg CO2e avoided per kg, with the source each default comes from (docs/carbon.md shows the working).
# WARM states metric tons CO2e per short ton: 1 t/short ton = 1000 / 907.185 = 1.102 kg per kg.
WARM = "US EPA Waste Reduction Model (WARM), recycling emission factors"
IPCC = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 5 ch. 3 (landfill methane, "
    "first-order decay defaults) and ch. 4 Table 4.1 (composting, anaerobic digestion); GWP100 from "
    "IPCC AR5 (CH4 28, N2O 265)"
)
DEFAULT_MATERIAL_FACTORS = [
    # material code, kg CO2e avoided per kg recycled, source, year, note
    ("paper", "3.913", WARM, 2016, "mixed paper (general): 3.55 t CO2e per short ton recycled"),
    ("plastic", "1.025", WARM, 2016, "mixed plastics: 0.93 t CO2e per short ton recycled"),
    ("glass", "0.309", WARM, 2016, "glass: 0.28 t CO2e per short ton recycled"),
    ("metal", "4.839", WARM, 2016, "mixed metals: 4.39 t CO2e per short ton recycled"),
    ("e-waste", "0.871", WARM, 2016, "mixed electronics: 0.79 t CO2e per short ton recycled"),
    ("textile", "0.000", WARM, 2016, "no WARM recycling factor for textiles: the city enters its own"),
    (
        "batteries",
        "0.000",
        WARM,
        2016,
        "hazardous: collected for safe disposal, no avoided emissions counted",
    ),
    ("lamps", "0.000", WARM, 2016, "hazardous: collected for safe disposal, no avoided emissions counted"),
    (
        "medicines",
        "0.000",
        WARM,
        2016,
        "hazardous: collected for safe disposal, no avoided emissions counted",
    ),
]
DEFAULT_DESTINATION_FACTORS = [
    # category, destination, kg CO2e avoided per kg against landfill, source, year, note
    ("kitchen", "landfill", "0.000", IPCC, 2006, "the baseline every other destination is measured against"),
    (
        "kitchen",
        "composting",
        "1.069",
        IPCC,
        2006,
        "landfill CH4 avoided 0.15 DOC x 0.5 DOCf x 1.0 MCF x 0.5 F x 16/12 x 0.9 = 0.045 kg/kg (1.260 "
        "CO2e), less composting's 4 g CH4 and 0.3 g N2O per kg wet waste (0.191)",
    ),
    (
        "kitchen",
        "anaerobic_digestion",
        "1.232",
        IPCC,
        2006,
        "landfill CH4 avoided 1.260 CO2e, less digestion's 1 g CH4 per kg wet waste (0.028); energy "
        "recovered is not credited",
    ),
]


def load_default_emission_factors(factor_model, material_model, city) -> None:
    """The shipped factors for one city; rows the city already has (edited or not) are left alone."""
    materials = {m.code: m for m in material_model.objects.all()}
    for code, factor, source, year, note in DEFAULT_MATERIAL_FACTORS:
        if code in materials:
            factor_model.objects.get_or_create(
                city=city,
                material=materials[code],
                destination="recycling",
                defaults={"kg_co2e_per_kg": factor, "source": source, "source_year": year, "note": note},
            )
    for category, destination, factor, source, year, note in DEFAULT_DESTINATION_FACTORS:
        factor_model.objects.get_or_create(
            city=city,
            material=None,
            category=category,
            destination=destination,
            defaults={"kg_co2e_per_kg": factor, "source": source, "source_year": year, "note": note},
        )
