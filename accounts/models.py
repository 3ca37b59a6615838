from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from smartvillage.db import AppendOnlyModel


class Role(models.TextChoices):
    # DPMDT programme managers: allocations, users and roles.
    PROVINCE_ADMIN = "province_admin", _("Province administrator")
    # DPMDT staff: grant workflow and report verification, province-wide.
    PROVINCE_STAFF = "province_staff", _("Province staff")
    # Enters progress for the villages of one regency only.
    REGENCY_OFFICER = "regency_officer", _("Regency officer")
    # Reads everything, changes nothing.
    AUDITOR = "auditor", _("Auditor")


class CanonicalUsername(models.Func):
    """A username as login reads it: Unicode compatibility form (NFKC), lowercase. `STAF`, `Staf`,
    `STAF` in full-width or mathematical letters are all `staf`.

    Computed by the database, so that the unique index, the login lookup and the audit filter use one
    definition of "the same account". SQLite has no NFKC function and an ASCII-only LOWER; there
    usernames are stored in NFKC (User.save) and only ASCII letters fold (the embedded mode)."""

    output_field = models.CharField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="LOWER(%(expressions)s)", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "LOWER(NORMALIZE(%(expressions)s, NFKC))"
        return super().as_sql(compiler, connection, template=template, **extra_context)


class UserManager(DjangoUserManager):
    def with_username(self, username: str) -> QuerySet:
        """The account that `username`, however spelt, logs into (at most one: a unique index holds it)."""
        typed = Value(self.model.normalize_username(username), output_field=models.CharField())
        return self.alias(username_key=CanonicalUsername("username")).filter(username_key=CanonicalUsername(typed))

    def get_by_natural_key(self, username):
        # Login (ModelBackend), createsuperuser's "already taken" check and fixtures all look up here.
        return self.with_username(username).get()


class User(AbstractUser):
    # Least privilege by default: a new account reads and changes nothing it is not given.
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AUDITOR)
    regency = models.ForeignKey(
        "villages.Regency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        verbose_name=_("regency/city"),
        help_text=_("Required for regency officers, empty for every other role."),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                CanonicalUsername("username"),
                name="user_username_canonical_unique",
                violation_error_code="username_taken",
                violation_error_message=_("A user with that username already exists."),
            ),
            models.CheckConstraint(
                condition=Q(role=Role.REGENCY_OFFICER, regency__isnull=False)
                | (~Q(role=Role.REGENCY_OFFICER) & Q(regency__isnull=True)),
                name="user_regency_only_for_officers",
                violation_error_message=_("A regency officer needs a regency; other roles have none."),
            ),
        ]

    def save(self, *args, **kwargs):
        # Every path (forms, services, the admin, createsuperuser, the shell) stores the NFKC form, the
        # one the unique index and the login compare.
        self.username = self.normalize_username(self.username)
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            # An API token stands only as long as the password it was obtained with, as a session does
            # (Django's session auth hash): whoever changes the password, by whatever path, ends both.
            # The services revoke (and audit) first; this catches the paths outside them.
            Token.objects.filter(user=self).delete()

    def validate_constraints(self, exclude=None) -> None:
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            # An expression constraint names no field; this one is the username's, so forms show it there.
            errors = error.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [item for item in general if getattr(item, "code", None) == "username_taken"]
            if rest := [item for item in general if item not in taken]:
                errors[NON_FIELD_ERRORS] = rest
            if taken:
                errors.setdefault("username", []).extend(taken)
            raise ValidationError(errors) from None

    def clean(self) -> None:
        super().clean()
        if self.role == Role.REGENCY_OFFICER and self.regency_id is None:
            raise ValidationError({"regency": _("A regency officer must be assigned a regency.")})
        if self.role != Role.REGENCY_OFFICER and self.regency_id is not None:
            raise ValidationError({"regency": _("Only regency officers are assigned a regency.")})


class IdempotencyKey(models.Model):
    """The stored outcome of an API write sent with an `Idempotency-Key` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return self.key


class AuditAction(models.TextChoices):
    # Accounts, changed by province administrators.
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    TOKENS_REVOKED = "tokens_revoked", _("API tokens revoked")
    # Allocations (the APBD budget line); grant movements have their own trail in grants.GrantEvent.
    ALLOCATION_CREATED = "allocation_created", _("Allocation created")
    ALLOCATION_CHANGED = "allocation_changed", _("Allocation changed")
    ALLOCATION_ACTIVATED = "allocation_activated", _("Allocation activated")
    ALLOCATION_CLOSED = "allocation_closed", _("Allocation closed")
    # Programme targets, which the dashboard compares the adoption figures against.
    TARGET_CHANGED = "target_changed", _("Programme target changed")
    # Treasury reconciliation: a bank statement imported, an open item resolved by staff.
    STATEMENT_IMPORTED = "statement_imported", _("Bank statement imported")
    OUTCOME_RESOLVED = "outcome_resolved", _("Reconciliation item resolved")
    # Region units (villages.RegionVersion): a newer Kemendagri list applied, one entry per changed unit.
    REGION_CHANGED = "region_changed", _("Region unit changed by a newer list")
    # A row of an uploaded list's change set decided by hand (villages.RegionListUpload), before it is applied.
    REGION_PLAN_EDITED = "region_plan_edited", _("Region change set edited")


class AuditEntry(AppendOnlyModel):
    """Who changed what and when, for changes outside the grant and report trails
    (grants.GrantEvent and rollout.ProgressReport are their own records).
    Never updated or deleted: refused here and, on PostgreSQL, by a trigger."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # Null for changes made outside a login, e.g. by a management command.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50)
    object_repr = models.CharField(_("object"), max_length=200)
    # {field: [before, after]}; secrets (passwords) are recorded as changed, never by value.
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"
