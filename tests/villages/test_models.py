"""The code rules of the registry, held by the database and read by the loader: one source each."""

import pytest
from django.db import IntegrityError, transaction

from tests.factories import ProvinceFactory
from villages.models import Regency, RegencyKind, Village, VillageKind, regency_kind_for_code, village_kind_for_code
from villages.services import RegionFileError, regions_load

pytestmark = pytest.mark.django_db


def _regency_saved(province, code: str, kind: str) -> bool:
    """Whether the database takes a regency `code` of `kind` (saved without validation, as a raw write)."""
    try:
        with transaction.atomic():
            Regency.objects.create(code=code, name=f"Uji {code}", kind=kind, province=province)
    except IntegrityError:
        return False
    Regency.objects.filter(code=code).delete()
    return True


def test_the_database_and_the_loader_give_every_regency_part_the_same_kind():
    # The whole class: every regency part 00-99, each kind. Part 70 and 00 are neither a kota nor a kabupaten.
    province = ProvinceFactory(code="18")
    taken = {
        (part, kind)
        for part in range(100)
        for kind in RegencyKind.values
        if _regency_saved(province, f"18.{part:02d}", kind)
    }

    expected = {(part, kind) for part in range(100) if (kind := regency_kind_for_code(f"18.{part:02d}")) is not None}
    assert taken == expected
    assert (70, RegencyKind.KOTA) not in taken
    assert (0, RegencyKind.KABUPATEN) not in taken
    assert {kind for part, kind in taken if part < 70} == {RegencyKind.KABUPATEN}


def test_the_loader_refuses_what_the_database_refuses(tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(
        "code,name,level,parent_code,regency_kind,kind\n18,Lampung,province,,,\n18.70,Kota Uji,regency,18,kota,\n",
        encoding="utf-8",
    )

    with pytest.raises(RegionFileError, match="neither a kabupaten"):
        regions_load(path=path)


def test_the_village_kind_follows_the_first_digit_of_its_part_in_the_database_and_the_loader(registry):
    district = registry.district_a1
    for digit in "0123456789":
        code = f"{district.code}.{digit}987"
        kind = village_kind_for_code(code)
        for candidate in VillageKind.values:
            try:
                with transaction.atomic():
                    Village.objects.create(
                        code=code, name="Uji", kind=candidate, district=district, regency=district.regency
                    )
            except IntegrityError:
                assert candidate != kind, (code, candidate)
            else:
                assert candidate == kind, (code, candidate)
                Village.objects.filter(code=code).delete()
