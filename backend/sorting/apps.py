from django.apps import AppConfig


class SortingConfig(AppConfig):
    name = "backend.sorting"
    label = "sorting"
    verbose_name = "Sorting"
