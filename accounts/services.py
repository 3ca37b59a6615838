"""Writes to user accounts, and the audit record of who changed what."""

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEntry, Role, User
from smartvillage.errors import ApplicationError

# Demo accounts for the embedded mode: (username, role, regency code or None, Django admin access).
DEMO_USERS = (
    ("admin", Role.PROVINCE_ADMIN, None, True),
    ("staf", Role.PROVINCE_STAFF, None, False),
    ("auditor", Role.AUDITOR, None, False),
    # Pesisir Barat: one of the three regencies with desa blocked by no signal in 2023.
    ("petugas.pesisirbarat", Role.REGENCY_OFFICER, "18.13", False),
    ("petugas.lampungselatan", Role.REGENCY_OFFICER, "18.01", False),
)

# The regency model (villages.Regency), reached through the account's own foreign key: accounts sits below
# villages in the layers (README "Layout") and names it nowhere else.
Regency = User._meta.get_field("regency").related_model

# Account fields a province administrator edits, in the order the audit trail lists them.
USER_FIELDS = ("username", "first_name", "last_name", "email", "role", "regency", "is_active")
# What the Django admin's forms can change, beyond the portal's own account form.
ADMIN_USER_FIELDS = (*USER_FIELDS, "is_staff", "is_superuser")
# A change of these revokes the account's API tokens.
ACCESS_FIELDS = frozenset({"role", "regency", "is_active", "is_staff", "is_superuser"})
# Recorded as changed, never by value.
HIDDEN = "***"


# --- audit --------------------------------------------------------------------------------------


def audit_record(
    *, actor: User | None, action: str, obj: models.Model, changes: dict[str, list] | None = None
) -> AuditEntry:
    """Append one entry to the audit trail; call it inside the transaction that makes the change."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
    )


def field_values(*, obj: models.Model, fields: tuple[str, ...]) -> dict[str, object]:
    """The current values of `fields` (foreign keys by their key; region units by their code, which people
    read, rather than their surrogate key), for `changed_fields`."""
    return {name: _field_value(obj, obj._meta.get_field(name)) for name in fields}


def _field_value(obj: models.Model, field) -> object:
    if field.is_relation and any(f.name == "code" for f in field.related_model._meta.concrete_fields):
        related = getattr(obj, field.name)
        return related.code if related is not None else None
    return getattr(obj, field.attname)


def changed_fields(*, before: dict[str, object], after: dict[str, object]) -> dict[str, list]:
    """{field: [before, after]} for the fields whose value changed."""
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


# --- users --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserInput:
    username: str
    role: str
    regency: models.Model | None = None  # a villages.Regency
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    is_active: bool = True


def _apply(user: User, data: UserInput) -> None:
    # In NFKC before validation: `petugas` in full-width letters is `petugas`, not a name with invalid characters.
    user.username = User.normalize_username(data.username.strip())
    user.first_name, user.last_name, user.email = data.first_name.strip(), data.last_name.strip(), data.email.strip()
    user.role = data.role
    # Only officers have a regency: the policy scopes them by it.
    user.regency = data.regency if data.role == Role.REGENCY_OFFICER else None
    user.is_active = data.is_active


def _validate(user: User, password: str | None) -> None:
    try:
        user.full_clean(exclude=["password", "last_login", "date_joined"])
        if password is not None:
            validate_password(password, user)
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {"password": error.messages}
        raise ApplicationError(_("The account was not saved."), fields=fields) from error


@transaction.atomic
def user_create(*, actor: User, data: UserInput, password: str) -> User:
    """A new account with a role (and a regency for officers); recorded in the audit trail."""
    user = User()
    _apply(user, data)
    _validate(user, password)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Another administrator created the same username since validation.
        raise ApplicationError(
            _("The account was not saved."), fields={"username": [_("A user with that username already exists.")]}
        ) from error
    changes = {name: [None, value] for name, value in field_values(obj=user, fields=USER_FIELDS).items()}
    audit_record(actor=actor, action=AuditAction.USER_CREATED, obj=user, changes=changes)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, data: UserInput, password: str | None = None) -> User:
    """Change an account; a role, regency, activity or password change also revokes its API tokens, so
    an integration keeps no access the account no longer has (a new password also ends its sessions)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = field_values(obj=locked, fields=USER_FIELDS)
    _apply(locked, data)
    if locked.pk == actor.pk and (locked.role != Role.PROVINCE_ADMIN or not locked.is_active):
        # Nobody removes their own administration rights: another administrator must do it.
        raise ApplicationError(
            _("You cannot remove your own administrator role or deactivate your own account."),
            fields={"role": [_("Ask another province administrator.")]},
        )
    _validate(locked, password)
    changes = changed_fields(before=before, after=field_values(obj=locked, fields=USER_FIELDS))
    if password:
        locked.set_password(password)
        changes["password"] = [HIDDEN, HIDDEN]
    if not changes:
        return locked
    audit_record(actor=actor, action=AuditAction.USER_CHANGED, obj=locked, changes=changes)
    if {"role", "regency", "is_active", "password"} & changes.keys():
        # Before the save, which would otherwise drop a password's tokens unaudited (User.save).
        _tokens_delete(actor=actor, user=locked)
    locked.save()
    return locked


@transaction.atomic
def user_save_from_admin(*, actor: User, user: User) -> User:
    """Save an account as the Django admin's forms set it (the technical operators' fallback; the portal's
    pages use `user_create` / `user_update`): audited, and a change of access revokes its API tokens, as on
    the portal's account page (an integration keeps no access the account lost)."""
    before = None
    if user.pk is not None:
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = field_values(obj=locked, fields=ADMIN_USER_FIELDS)
    user.save()
    after = field_values(obj=user, fields=ADMIN_USER_FIELDS)
    if before is None:
        changes = {name: [None, value] for name, value in after.items()}
        audit_record(actor=actor, action=AuditAction.USER_CREATED, obj=user, changes=changes)
    elif changes := changed_fields(before=before, after=after):
        audit_record(actor=actor, action=AuditAction.USER_CHANGED, obj=user, changes=changes)
        if ACCESS_FIELDS & changes.keys():
            _tokens_delete(actor=actor, user=user)
    return user


@transaction.atomic
def user_password_change(*, actor: User, user: User, password: str | None) -> User:
    """Set the account's password (None: disable password login), by the account itself or an
    administrator. Ends the account's sessions (Django derives each session's hash from the password
    hash; the caller keeps its own with update_session_auth_hash) and revokes its API tokens.
    Audited as changed, never by value."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if password is not None:
        try:
            validate_password(password, locked)
        except ValidationError as error:
            raise ApplicationError(_("The password was not changed."), fields={"password": error.messages}) from error
    audit_record(actor=actor, action=AuditAction.USER_CHANGED, obj=locked, changes={"password": [HIDDEN, HIDDEN]})
    _tokens_delete(actor=actor, user=locked)
    if password is None:
        locked.set_unusable_password()
    else:
        locked.set_password(password)
    locked.save(update_fields=["password"])
    return locked


def _tokens_delete(*, actor: User | None, user: User) -> bool:
    deleted, _rows = Token.objects.filter(user=user).delete()
    if deleted:
        audit_record(actor=actor, action=AuditAction.TOKENS_REVOKED, obj=user)
    return bool(deleted)


@transaction.atomic
def user_tokens_revoke(*, actor: User, user: User) -> bool:
    """Revoke the account's API token (its integrations must obtain a new one); False if it had none."""
    return _tokens_delete(actor=actor, user=user)


# --- demo ---------------------------------------------------------------------------------------


@transaction.atomic
def demo_users_ensure(*, password: str) -> list[User]:
    """Create or reset the demo accounts whose regency exists; return them."""
    existing_regencies = dict(
        Regency.objects.filter(code__in=[code for _, _, code, _ in DEMO_USERS if code]).values_list("code", "pk")
    )
    users = []
    for username, role, regency_code, is_admin in DEMO_USERS:
        if regency_code and regency_code not in existing_regencies:
            continue
        user, _created = User.objects.get_or_create(username=username)
        user.role, user.regency_id = role, existing_regencies.get(regency_code)
        user.is_staff = user.is_superuser = is_admin
        user.is_active = True
        user.set_password(password)
        user.full_clean()
        user.save()
        users.append(user)
    return users
