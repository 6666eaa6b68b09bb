from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "geo"
    label = "geo"
    verbose_name = "Geography"
