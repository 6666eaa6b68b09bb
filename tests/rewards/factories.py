import factory

from geo.models import City
from rewards.models import Reward, Shop
from tests.factories import MerchantFactory


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"绿色回收超市{n}")
    city = factory.LazyFunction(lambda: City.objects.order_by("id").first())

    @factory.post_generation
    def merchants(obj, create, extracted, **kwargs):
        if create:
            obj.merchants.set(extracted if extracted is not None else [MerchantFactory()])


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"环保袋{n}")
    points_cost = 100
    stock = 10
    total_stock = factory.SelfAttribute("stock")
    shop = factory.SubFactory(ShopFactory)
