import pytest

pytestmark = pytest.mark.django_db


def test_registry_fixture_builds_valid_codes(registry):
    codes = sorted(registry.district_a1.villages.values_list("code", flat=True))
    assert len(codes) == 4
    assert all(code.startswith("18.01.01.") for code in codes)
