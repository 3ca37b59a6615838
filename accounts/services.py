"""Writes to user accounts."""

from django.db import transaction

from accounts.models import Role, User
from villages.models import Regency

# Demo accounts for the embedded mode: (username, role, regency code or None, Django admin access).
DEMO_USERS = (
    ("admin", Role.PROVINCE_ADMIN, None, True),
    ("staf", Role.PROVINCE_STAFF, None, False),
    ("auditor", Role.AUDITOR, None, False),
    # Pesisir Barat: one of the three regencies with desa blocked by no signal in 2023.
    ("petugas.pesisirbarat", Role.REGENCY_OFFICER, "18.13", False),
    ("petugas.lampungselatan", Role.REGENCY_OFFICER, "18.01", False),
)


@transaction.atomic
def demo_users_ensure(*, password: str) -> list[User]:
    """Create or reset the demo accounts whose regency exists; return them."""
    existing_regencies = set(
        Regency.objects.filter(code__in=[code for _, _, code, _ in DEMO_USERS if code]).values_list("code", flat=True)
    )
    users = []
    for username, role, regency_code, is_admin in DEMO_USERS:
        if regency_code and regency_code not in existing_regencies:
            continue
        user, _ = User.objects.get_or_create(username=username)
        user.role, user.regency_id = role, regency_code
        user.is_staff = user.is_superuser = is_admin
        user.is_active = True
        user.set_password(password)
        user.full_clean()
        user.save()
        users.append(user)
    return users
