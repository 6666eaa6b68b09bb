from django.apps import AppConfig


class SortingConfig(AppConfig):
    name = "sorting"
    label = "sorting"
    verbose_name = "Sorting"
