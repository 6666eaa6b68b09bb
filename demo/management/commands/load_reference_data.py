from django.core.management.base import BaseCommand

from geo.services import load_reference_geography
from rewards.models import Material
from rewards.services import load_reference_rewards


class Command(BaseCommand):
    help = "Load (or refresh) the Xuchang districts with their national codes and the default materials. Idempotent."

    def handle(self, *args, **options):
        city = load_reference_geography()
        load_reference_rewards(city)
        self.stdout.write(
            f"{city.name}: {city.districts.count()} districts, {Material.objects.count()} materials"
        )
