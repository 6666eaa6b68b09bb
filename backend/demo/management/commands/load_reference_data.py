from django.core.management.base import BaseCommand

from backend.geo.models import City, District
from backend.geo.reference import load_xuchang
from rewards.fixtures_data import load_default_materials
from rewards.models import Material
from rewards.rules import rules_for_city


class Command(BaseCommand):
    help = "Load (or refresh) the Xuchang districts with their national codes and the default materials. Idempotent."

    def handle(self, *args, **options):
        city = load_xuchang(City, District)
        load_default_materials(Material)
        rules_for_city(city.id)
        self.stdout.write(
            f"{city.name}: {city.districts.count()} districts, {Material.objects.count()} materials"
        )
