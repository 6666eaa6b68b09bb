"""Household waste categories of GB/T 19095-2019, with their standard names and label colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WasteCategory(models.TextChoices):
    RECYCLABLE = "recyclable", _("recyclable")
    HAZARDOUS = "hazardous", _("hazardous")
    KITCHEN = "kitchen", _("kitchen")
    OTHER = "other", _("other")


# name in Chinese, name in English, label colour (GB/T 19095-2019 figure colours)
CATEGORY_LABELS = {
    WasteCategory.RECYCLABLE: ("可回收物", "Recyclable", "#0070C0"),
    WasteCategory.HAZARDOUS: ("有害垃圾", "Hazardous Waste", "#E60012"),
    WasteCategory.KITCHEN: ("厨余垃圾", "Food Waste", "#00A03C"),
    WasteCategory.OTHER: ("其他垃圾", "Residual Waste", "#5E5E5E"),
}


class Destination(models.TextChoices):
    """Where collected waste goes; emission factors are stated per destination.

    The same values as `stats.models.Destination`, which the areas below statistics cannot import;
    statistics is to take this one (with any destination it adds) once its own rework has landed.
    """

    RECYCLING = "recycling", _("recycling")
    COMPOSTING = "composting", _("composting")
    ANAEROBIC_DIGESTION = "anaerobic_digestion", _("anaerobic digestion")
    INCINERATION = "incineration", _("incineration")
    LANDFILL = "landfill", _("landfill")
