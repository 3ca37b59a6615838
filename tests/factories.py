import factory

from accounts.models import Role, User
from villages.models import District, Province, Regency, RegencyKind, Village, VillageKind


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("code",)

    code = "18"
    name = "Lampung"


class RegencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Regency

    province = factory.SubFactory(ProvinceFactory)
    code = factory.Sequence(lambda n: f"18.{n % 60 + 1:02d}")
    name = factory.LazyAttribute(lambda o: f"Kabupaten Uji {o.code}")
    kind = RegencyKind.KABUPATEN


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    regency = factory.SubFactory(RegencyFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.regency.code}.{n % 99 + 1:02d}")
    name = factory.Sequence(lambda n: f"Kecamatan Uji {n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    district = factory.SubFactory(DistrictFactory)
    regency = factory.SelfAttribute("district.regency")
    kind = VillageKind.DESA
    code = factory.LazyAttributeSequence(
        lambda o, n: f"{o.district.code}.{ {'kelurahan': 1, 'desa': 2, 'desa_adat': 3}[o.kind] }{n % 999 + 1:03d}"
    )
    name = factory.Sequence(lambda n: f"Desa Uji {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.PROVINCE_STAFF
    password = factory.django.Password("rahasia-uji-123")
