from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. What they may do depends on their Membership in each tenant."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Platform operator (Django admin).")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]  # django-stubs: a ClassVar there

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Tenant(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC")
    signup_domains = models.TextField(
        blank=True,
        help_text="Email domains whose people may sign up as requesters, one per line.",
    )
    confirmation_window_days = models.PositiveSmallIntegerField(
        default=3, help_text="Business days a resolved incident waits for the reporter."
    )
    audit_retention_days = models.PositiveIntegerField(
        default=730, help_text="Days the audit log keeps a record (tenancy/audit.py)."
    )
    mfa_required = models.BooleanField(
        default=False,
        help_text="Agents, managers and admins must use a second factor (tenancy/mfa/).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def signup_domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.signup_domains.split() if d.strip()]


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet:
        return self.filter(tenant=tenant)


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class TenantOwned(models.Model):
    """Every tenant-owned row carries its tenant, child rows too."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    REQUESTER = "requester", "Requester"
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


class Membership(TenantOwned):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REQUESTER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
        ]
        indexes = [models.Index(fields=["tenant", "role"], name="membership_tenant_role")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant_id} as {self.role}"

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)


class TenantCounter(TenantOwned):
    """Gap-free per-tenant sequences: the row lock taken by UPDATE serialises allocators."""

    name = models.CharField(max_length=32)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="counter_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class Invitation(TenantOwned):
    """An admin's invitation to join with a role. Its link is signed, expiring and single-use.

    A new person's User is created with the invitation (with an unusable password) so that the
    invitation can name them; the Membership is only created when they accept.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Rotated by every re-send, so only the newest link works.
    key = models.CharField(max_length=64)
    send_count = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "sent_at"], name="invitation_tenant_sent")]

    def __str__(self) -> str:
        return f"{self.user} to {self.tenant_id} as {self.role}"

    @property
    def expires_at(self) -> datetime:
        return self.sent_at + timedelta(seconds=settings.INVITATION_MAX_AGE)

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.is_pending and self.expires_at <= timezone.now()


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"


class ApiKey(TenantOwned):
    """An integration's key. Only a SHA-256 of the secret is kept; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scopes = models.CharField(max_length=40, default="read,write")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="apikey_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def role(self) -> str:
        return Role.ADMIN if ApiKeyScope.ADMIN in self.scope_list else Role.AGENT


class IdempotencyRecord(TenantOwned):
    """The first answer to a POST with an Idempotency-Key, replayed for repeats (>= 24 h)."""

    key = models.CharField(max_length=255)
    # Who sent it: a key id or a user id, so two integrations never share an answer.
    principal = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    method_path = models.CharField(max_length=300)
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="idempotency_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class AuditRecord(TenantOwned):
    """One change to the tenant that is not on an incident (tenancy/audit.py): who, what, to
    which thing, before and after. Append-only: PostgreSQL refuses UPDATE and DELETE (migration
    0006) but for the retention job. The actor is kept as words and an id, not a foreign key, so
    no deletion or erasure of a person has to rewrite the log."""

    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=16)  # member, integration, system, anonymous
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=200)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-at", "-id"], name="audit_latest"),
            models.Index(fields=["tenant", "action", "-at"], name="audit_action"),
            models.Index(fields=["tenant", "actor_user_id", "-at"], name="audit_actor"),
            models.Index(fields=["tenant", "target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_label}"


class UserSession(models.Model):
    """One signed-in browser of a person (tenancy/account/): listed on their account page so they
    can end it. Kept beside Django's session store, keyed by its session key; the store remains
    the truth (a row whose session expired or was deleted is not shown and is cleared). Not a
    tenant's: a person's sessions span every organisation they belong to."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Updated at most once a minute (tenancy/account/middleware.py), not on every request.
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"{self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"
