"""Tenants, members (invitations, roles, deactivation, sign-up) and per-tenant sequences."""

from __future__ import annotations

import functools
import logging
import secrets
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenancy.actors import Actor
from tenancy.audit import RETENTION_DAYS, audit_record
from tenancy.errors import InvalidInput, LinkRefused, NotAllowed
from tenancy.hooks import mail_queued, member_left, tenant_provisioned
from tenancy.links import SignupClaim, invitation_url, signup_check_unused, signup_url
from tenancy.models import Invitation, Membership, Role, Tenant, TenantCounter, User
from tenancy.throttle import SECOND_FACTOR, lockout_lift

logger = logging.getLogger(__name__)


def counter_next(*, tenant: Tenant, name: str, count: int = 1) -> int:
    """Next value of a gap-free tenant sequence; call inside the transaction that uses it.

    The UPDATE takes the counter's row lock until commit, so concurrent allocators queue and a
    rolled-back allocation returns its number. With `count` > 1 a block of that many values is
    taken (an import numbers a batch at once) and the last of them is returned.
    """
    value = _counter_bump(tenant, name, count)
    if value is None:
        try:
            with transaction.atomic():
                TenantCounter.objects.create(tenant=tenant, name=name, value=0)
        except IntegrityError:
            pass  # another transaction created it first; its row lock orders us after it
        value = _counter_bump(tenant, name, count)
    assert value is not None
    return value


def _counter_bump(tenant: Tenant, name: str, count: int) -> int | None:
    # One statement, no savepoint: reports take their number inside the lock's queue.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TenantCounter._meta.db_table} SET value = value + %s "
            "WHERE tenant_id = %s AND name = %s RETURNING value",
            [count, tenant.pk, name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# Debian links the host's own zone into the zoneinfo directory as "localtime"; it is no IANA
# name, and a desk set to it would follow whatever the server is set to.
NOT_ZONES = frozenset({"localtime"})


@functools.cache
def _zone_names() -> frozenset[str]:
    # available_timezones() reads every file under the zoneinfo directory: once per process.
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def check_time_zone(time_zone: str, *, field: str = "time_zone") -> None:
    """Accept an IANA zone name (Europe/London, UTC). ZoneInfo alone also opens any other TZif
    file under the zoneinfo directory ("posix/Europe/London", "right/UTC", "posixrules"),
    which are not zone names."""
    if time_zone not in _zone_names():
        raise InvalidInput(
            f"{time_zone!r} is not a time zone. Use a name such as Europe/London or UTC.",
            field=field,
        )


@transaction.atomic
def tenant_create(*, slug: str, name: str, time_zone: str = "UTC") -> Tenant:
    check_time_zone(time_zone)
    tenant = Tenant.objects.create(slug=slug, name=name, time_zone=time_zone)
    tenant_provision(tenant=tenant)
    return tenant


@transaction.atomic
def tenant_provision(*, tenant: Tenant) -> None:
    """What every new tenant starts with: its incident counter, and each app's defaults (the
    priority matrix and codes, SLA calendars, targets and escalation policy)."""
    TenantCounter.objects.create(tenant=tenant, name="incident", value=0)
    tenant_provisioned.send(tenant=tenant)


# How long a resolved incident waits for its reporter before it closes by itself; beyond six
# weeks of business days an unanswered resolution is no longer worth holding open.
CONFIRMATION_WINDOW_DAYS = (1, 30)


def _tenant_days_set(
    actor: Actor,
    *,
    field: str,
    days: int,
    bounds: tuple[int, int],
    outside: str,
    action: str,
    recorded_as: str,
) -> Tenant:
    """Set one of the tenant's periods in days, within its bounds (`outside` says them, with
    {low}, {high} and {days}), and record the change, named `recorded_as`, when there is one."""
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin of this organisation can change its settings.")
    low, high = bounds
    if not low <= days <= high:
        raise InvalidInput(outside.format(low=low, high=high, days=days), field=field)
    tenant = Tenant.objects.select_for_update().get(pk=actor.tenant.pk)
    before = getattr(tenant, field)
    if before != days:
        setattr(tenant, field, days)
        tenant.save(update_fields=[field])
        audit_record(
            actor=actor,
            action=action,
            target=tenant,
            before={recorded_as: before},
            after={recorded_as: days},
        )
    return tenant


@transaction.atomic
def tenant_confirmation_window_set(*, actor: Actor, days: int) -> Tenant:
    """Set the auto-close window: the business days a resolved incident waits for an answer.
    Applies to incidents resolved before the change too (the sweep reads it each run)."""
    return _tenant_days_set(
        actor,
        field="confirmation_window_days",
        days=days,
        bounds=CONFIRMATION_WINDOW_DAYS,
        outside="The auto-close window is {low} to {high} business days; {days} is outside it.",
        action="tenant.settings_changed",
        recorded_as="auto_close_after_business_days",
    )


@transaction.atomic
def tenant_audit_retention_set(*, actor: Actor, days: int) -> Tenant:
    """Set how many days the audit log keeps a record (the daily retention job reads it)."""
    return _tenant_days_set(
        actor,
        field="audit_retention_days",
        days=days,
        bounds=RETENTION_DAYS,
        outside="The audit log keeps records for {low} to {high} days; {days} is outside it.",
        action="audit.retention_changed",
        recorded_as="retention_days",
    )


def membership_add(*, tenant: Tenant, user: User, role: str = Role.REQUESTER) -> Membership:
    """Seeding and set-up only (the demo data, benchmarks, tests): nobody acts, so nothing is
    audited. People join through an invitation or a sign-up, both audited."""
    membership, created = Membership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        membership.role = role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    return membership


# --- Members: roles and deactivation ----------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin of this organisation can manage its members.")


def _valid_role(role: str) -> str:
    if role not in Role.values:
        choices = ", ".join(label.lower() for label in Role.labels)
        raise InvalidInput(f"“{role}” is not a role. Choose one of: {choices}.", field="role")
    return role


def _lock_member(actor: Actor, membership_id: int) -> Membership:
    """Lock the tenant's active admins first, then the member, always in this order.

    Every membership write takes the admins' row locks, so two admins demoting each other at
    once are serialised and the second one sees that only one admin is left.
    """
    admins = Membership.objects.for_tenant(actor.tenant).filter(role=Role.ADMIN, is_active=True)
    admin_ids = set(admins.select_for_update().order_by("pk").values_list("pk", flat=True))
    if actor.membership is not None and actor.membership.pk not in admin_ids:
        # The actor was demoted or deactivated after loading their page.
        raise NotAllowed("You are no longer an admin of this organisation.")
    # of=self: locking the joined tenant row too would block every insert that references it.
    return (
        Membership.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("user", "tenant")
        .get(pk=membership_id)
    )


def _role_label(role: str) -> str:
    return str(Role(role).label)


def _audit_member(
    actor: Actor, action: str, membership: Membership, before: dict, after: dict
) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=membership,
        target_label=membership.user.display_name,
        before=before,
        after=after,
    )


def _keep_an_admin(membership: Membership, doing: str) -> None:
    if membership.role != Role.ADMIN or not membership.is_active:
        return
    others = (
        Membership.objects.for_tenant(membership.tenant_id)
        .filter(role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise NotAllowed(
            f"{membership.user.display_name} is the last admin of {membership.tenant.name}, "
            f"so you cannot {doing} them. Make another member an admin first."
        )


@transaction.atomic
def membership_set_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    _require_admin(actor)
    role = _valid_role(role)
    membership = _lock_member(actor, membership.pk)
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _keep_an_admin(membership, "demote")
    before = _role_label(membership.role)
    membership.role = role
    membership.save(update_fields=["role"])
    _audit_member(
        actor, "member.role_changed", membership, {"role": before}, {"role": _role_label(role)}
    )
    return membership


@transaction.atomic
def membership_deactivate(*, actor: Actor, membership: Membership) -> Membership:
    """The member can no longer use the tenant; their incidents and events stay as they are."""
    _require_admin(actor)
    membership = _lock_member(actor, membership.pk)
    if not membership.is_active:
        return membership
    _keep_an_admin(membership, "deactivate")
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    _audit_member(
        actor, "member.deactivated", membership, {"status": "active"}, {"status": "deactivated"}
    )
    return membership


@transaction.atomic
def member_leave(*, actor: Actor, membership: Membership) -> list[str]:
    """Deactivate the member, and let each app hand back what they held (incidents go back to
    their groups' queues). Returns what the admin is told of it."""
    was_active = membership.is_active
    membership = membership_deactivate(actor=actor, membership=membership)
    if not was_active:
        return []
    return [said for said in member_left.send(actor=actor, membership=membership) if said]


@transaction.atomic
def membership_reactivate(*, actor: Actor, membership: Membership) -> Membership:
    _require_admin(actor)
    membership = _lock_member(actor, membership.pk)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    _audit_member(
        actor, "member.reactivated", membership, {"status": "deactivated"}, {"status": "active"}
    )
    return membership


@transaction.atomic
def membership_lockout_lift(*, actor: Actor, membership: Membership) -> int:
    """Let a member whose log-ins are paused after failed attempts try again now. Their own
    failures are forgotten; failures under other names from the same addresses stay (those may
    be an attacker's). Returns the rows forgotten."""
    _require_admin(actor)
    membership = _lock_member(actor, membership.pk)
    lifted = lockout_lift(membership.user.email)
    lifted += lockout_lift(SECOND_FACTOR + membership.user.email)
    if lifted:  # nothing was counted against them: nothing changed
        _audit_member(
            actor, "member.lockout_lifted", membership, {}, {"failed_log_ins": "forgotten"}
        )
    logger.warning(
        "login lockout of %s lifted by %s in %s",
        membership.user.email,
        actor.name,
        actor.tenant.slug,
    )
    return lifted


@transaction.atomic
def tenant_mfa_required_set(*, actor: Actor, required: bool) -> Tenant:
    """Require (or stop requiring) a second factor of the tenant's agents, managers and admins."""
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin of this organisation can change its settings.")
    tenant = Tenant.objects.select_for_update().get(pk=actor.tenant.pk)
    if tenant.mfa_required != required:
        words = {True: "required", False: "optional"}
        tenant.mfa_required = required
        tenant.save(update_fields=["mfa_required"])
        audit_record(
            actor=actor,
            action="tenant.mfa_required_changed",
            target=tenant,
            before={"second_factor_for_staff": words[not required]},
            after={"second_factor_for_staff": words[required]},
        )
    return tenant


# --- Invitations ------------------------------------------------------------------------------


def _user_for_email(email: str) -> User:
    """The person with this address, created with an unusable password when new."""
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(email)
    except IntegrityError:  # created at this instant by a concurrent invitation or sign-up
        return User.objects.get(email__iexact=email)


def _check_not_member(tenant: Tenant, user: User) -> None:
    membership = Membership.objects.for_tenant(tenant).filter(user=user).first()
    if membership is None:
        return
    if membership.is_active:
        raise InvalidInput(
            f"{user.email} is already a member here ({membership.get_role_display().lower()}).",
            field="email",
        )
    raise InvalidInput(
        f"{user.email} is a deactivated member. Reactivate them in the list of members instead.",
        field="email",
    )


@transaction.atomic
def membership_invite(*, actor: Actor, email: str, role: str) -> Invitation:
    """Invite someone by email; inviting them again sends a new link and voids the old one."""
    _require_admin(actor)
    role = _valid_role(role)
    email = User.objects.normalize_email(email.strip()).lower()
    if not email:
        raise InvalidInput("Enter the email address of the person to invite.", field="email")
    user = _user_for_email(email)
    _check_not_member(actor.tenant, user)
    invitation = (
        Invitation.objects.for_tenant(actor.tenant)
        .select_for_update()
        .filter(user=user, accepted_at=None, revoked_at=None)
        .first()
    )
    if invitation is None:
        invitation = Invitation.objects.create(
            tenant=actor.tenant, user=user, role=role, invited_by=actor.user, key=_new_key()
        )
        action, before, after = "invitation.sent", {}, {"email": email, "role": _role_label(role)}
    else:
        before = {"role": _role_label(invitation.role)} if invitation.role != role else {}
        invitation.role, invitation.invited_by, invitation.key = role, actor.user, _new_key()
        invitation.sent_at = timezone.now()
        invitation.send_count += 1
        invitation.save(update_fields=["role", "invited_by", "key", "sent_at", "send_count"])
        # The earlier link stops working: that is the change, the link itself is a secret.
        action, after = "invitation.resent", {"role": _role_label(role), "link": "replaced"}
        if not before:
            del after["role"]
    invitation.tenant = actor.tenant
    audit_record(
        actor=actor,
        action=action,
        target=invitation,
        target_label=email,
        before=before,
        after=after,
    )
    _send_invitation(invitation, inviter=actor.name)
    return invitation


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _send_invitation(invitation: Invitation, *, inviter: str) -> None:
    context = {
        "tenant": invitation.tenant,
        "invitation": invitation,
        "inviter": inviter,
        "role": invitation.get_role_display().lower(),
        "url": invitation_url(invitation),
        "new_account": not invitation.user.has_usable_password(),
        "days": max(settings.INVITATION_MAX_AGE // 86400, 1),
    }
    _mail(
        invitation.tenant,
        "invitation",
        "invitation",
        invitation.user.email,
        context,
        invitation.user,
    )


def _mail(
    tenant: Tenant, kind: str, template: str, address: str, context: dict, user: User | None
) -> None:
    """A tenant's mail to one person, through the outbox, from tenancy/email/<template>*.txt."""
    subject = render_to_string(f"tenancy/email/{template}_subject.txt", context)
    mail_queued.send(
        tenant=tenant,
        kind=kind,
        address=address,
        recipient=user,
        subject=" ".join(subject.split()),
        body=render_to_string(f"tenancy/email/{template}.txt", context),
    )


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    _require_admin(actor)
    invitation = (
        Invitation.objects.for_tenant(actor.tenant).select_for_update().get(pk=invitation.pk)
    )
    if invitation.is_pending:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="invitation.revoked",
            target=invitation,
            target_label=invitation.user.email,
            before={"status": "pending"},
            after={"status": "withdrawn"},
        )
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, password: str = "", full_name: str = ""
) -> Membership:
    """Join the tenant. A new person sets their password here; others keep theirs."""
    invitation = (
        Invitation.objects.for_tenant(invitation.tenant_id)
        .select_for_update(of=("self",))
        .select_related("user", "tenant")
        .get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise LinkRefused("This invitation has already been used or was withdrawn.")
    user = invitation.user
    if not user.is_active:
        raise LinkRefused("This account is disabled. Ask the desk's operators for help.")
    if not user.has_usable_password():
        _set_password(user, password=password, full_name=full_name)
    membership = (
        Membership.objects.for_tenant(invitation.tenant)
        .select_related("user", "tenant")
        .filter(user=user)
        .first()
    )
    if membership is not None and not membership.is_active:
        raise LinkRefused(
            f"Your membership of {invitation.tenant.name} was deactivated. Ask its administrator."
        )
    if membership is None:
        membership = Membership.objects.create(
            tenant=invitation.tenant, user=user, role=invitation.role
        )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    # The new member acts: they followed the link themselves.
    _audit_member(
        Actor.member(membership),
        "invitation.accepted",
        membership,
        {},
        {"email": user.email, "role": membership.get_role_display()},
    )
    return membership


def _set_password(user: User, *, password: str, full_name: str) -> None:
    if not password:
        raise InvalidInput("Choose a password for your new account.", field="new_password1")
    user.set_password(password)
    user.full_name = full_name.strip() or user.full_name
    user.save(update_fields=["password", "full_name"])


# --- Self sign-up of requesters ---------------------------------------------------------------


def _check_signup_domain(tenant: Tenant, email: str) -> None:
    domain = email.rpartition("@")[2].lower()
    if not tenant.signup_domain_list:
        raise InvalidInput(
            f"{tenant.name} does not take sign-ups. Ask its service desk for an invitation.",
            field="email",
        )
    if domain not in tenant.signup_domain_list:
        raise InvalidInput(
            f"Sign-up at {tenant.name} is not open to addresses at {domain}. Use your work "
            "address, or ask the service desk for an invitation.",
            field="email",
        )


@transaction.atomic
def signup_request(*, tenant: Tenant, email: str, full_name: str) -> None:
    """Email a confirmation link, or a reminder to someone who already belongs here.

    The answer on screen is the same either way, so the form tells nobody who has an account.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    _check_signup_domain(tenant, email)
    context: dict = {"tenant": tenant, "site_url": settings.SITE_URL}
    user = User.objects.filter(email__iexact=email).first()
    if user and Membership.objects.for_tenant(tenant).filter(user=user).exists():
        context["login_url"] = settings.SITE_URL + reverse("login")
        context["reset_url"] = settings.SITE_URL + reverse("password_reset")
        _mail(tenant, "signup", "signup_existing", email, context, user)
        return
    claim = SignupClaim(tenant=tenant, email=email, full_name=full_name.strip())
    context.update(
        url=signup_url(claim), days=max(settings.SIGNUP_CONFIRMATION_MAX_AGE // 86400, 1)
    )
    _mail(tenant, "signup", "signup", email, context, user)


@transaction.atomic
def requester_signup(*, claim: SignupClaim, password: str = "", full_name: str = "") -> Membership:
    """Confirm a sign-up: the address is proven, so the requester membership starts active."""
    tenant = claim.tenant
    _check_signup_domain(tenant, claim.email)
    user = _user_for_email(claim.email)
    if not user.is_active:
        raise LinkRefused("This account is disabled. Ask the desk's operators for help.")
    signup_check_unused(claim)
    if not user.has_usable_password():
        _set_password(user, password=password, full_name=full_name or claim.full_name)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
    except IntegrityError as exc:  # the same link confirmed twice at the same instant
        raise LinkRefused(f"This link has already been used. Log in to {tenant.name}.") from exc
    _audit_member(
        Actor.member(membership),
        "member.signed_up",
        membership,
        {},
        {"email": user.email, "role": _role_label(Role.REQUESTER)},
    )
    return membership
