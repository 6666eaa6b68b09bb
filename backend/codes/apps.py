from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "backend.codes"
    label = "codes"
    verbose_name = "Signed codes"
