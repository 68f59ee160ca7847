"""Tenant configuration: assignment groups, categories with their routing rule, resolution codes.

Only a tenant admin changes these. Every row named (a lead, a member, a group) must belong to
the admin's tenant; a slug already taken is a field error, never an IntegrityError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from incidents.models import AssignmentGroup, Category, GroupMember, ResolutionCode
from incidents.rules import check_admin
from incidents.services.audited import audit_change, person
from tenancy.actors import Actor
from tenancy.config_stamp import config_write
from tenancy.errors import InvalidInput
from tenancy.models import STAFF_ROLES, Membership, User

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def field_max_length(model: type[models.Model], field: str) -> int:
    return cast(models.Field, model._meta.get_field(field)).max_length or 0


def _check_owned(actor: Actor, obj: models.Model, what: str) -> None:
    if obj.tenant_id != actor.tenant.pk:  # type: ignore[attr-defined]
        raise InvalidInput(f"No such {what} here.")


def _clean_text(value: str, field: str, model: type[models.Model], *, what: str) -> str:
    value = (value or "").strip()
    limit = field_max_length(model, field)
    if not value:
        raise InvalidInput(f"Give the {what} a {field}.", field=field)
    if limit and len(value) > limit:
        raise InvalidInput(f"The {field} is limited to {limit} characters.", field=field)
    return value


def _clean_slug(slug: str, name: str, model: type[models.Model]) -> str:
    """The slug typed, or one made from the name; the slug is what the API and imports use."""
    limit = field_max_length(model, "slug")
    slug = (slug or "").strip().lower() or slugify(name)[:limit].strip("-")
    if not slug:
        raise InvalidInput("Give a slug: letters, digits and hyphens.", field="slug")
    if not SLUG_RE.match(slug) or len(slug) > limit:
        raise InvalidInput(
            f"A slug is lowercase letters, digits and hyphens, up to {limit} characters.",
            field="slug",
        )
    return slug


def _save_unique(obj: models.Model, what: str) -> None:
    """Save, turning the (tenant, slug) constraint into the field error a person can act on."""
    clash = (
        type(obj)
        .objects.filter(tenant_id=obj.tenant_id, slug=obj.slug)  # type: ignore[attr-defined]
        .exclude(pk=obj.pk)
    )
    message = f"Another {what} already uses the slug “{obj.slug}”."  # type: ignore[attr-defined]
    if clash.exists():
        raise InvalidInput(message, field="slug")
    try:
        with transaction.atomic():  # a savepoint, so a lost race leaves the transaction usable
            obj.save()
    except IntegrityError:
        raise InvalidInput(message, field="slug") from None


def _staff(actor: Actor, users: Iterable[User], field: str) -> list[User]:
    """The users, provided each is an active agent, manager or admin of the actor's tenant."""
    users = list(users)
    ok = set(
        Membership.objects.for_tenant(actor.tenant)
        .filter(user__in=users, is_active=True, role__in=STAFF_ROLES, user__is_active=True)
        .values_list("user_id", flat=True)
    )
    refused = [u.email for u in users if u.pk not in ok]
    if refused:
        raise InvalidInput(
            f"{', '.join(refused)}: not an active agent, manager or admin of this desk.",
            field=field,
        )
    return users


# --- assignment groups ------------------------------------------------------------------


@transaction.atomic
def group_create(
    *,
    actor: Actor,
    name: str,
    slug: str = "",
    description: str = "",
    lead: User | None = None,
    members: Iterable[User] = (),
    auto_assign: bool = False,
    is_active: bool = True,
) -> AssignmentGroup:
    check_admin(actor, "create assignment groups")
    return group_update(
        actor=actor,
        group=AssignmentGroup(tenant=actor.tenant),
        name=name,
        slug=slug,
        description=description,
        lead=lead,
        members=members,
        auto_assign=auto_assign,
        is_active=is_active,
    )


@config_write
def group_update(
    *,
    actor: Actor,
    group: AssignmentGroup,
    name: str,
    slug: str,
    description: str,
    lead: User | None,
    members: Iterable[User],
    auto_assign: bool,
    is_active: bool,
) -> AssignmentGroup:
    """Save a group (group_create passes a new one). Deactivating it stops its categories'
    routing: new incidents wait in Unassigned; incidents it already holds stay with it."""
    check_admin(actor, "change assignment groups")
    _check_owned(actor, group, "group")
    before = _group_words(group) if group.pk else {}
    group.name = _clean_text(name, "name", AssignmentGroup, what="group")
    group.slug = _clean_slug(slug, group.name, AssignmentGroup)
    group.description = (description or "").strip()
    group.lead = _staff(actor, [lead], "lead")[0] if lead else None
    wanted = _staff(actor, members, "members")
    group.auto_assign, group.is_active = auto_assign, is_active
    _save_unique(group, "group")
    _set_members(group, wanted)
    action = "group.changed" if before else "group.created"
    audit_change(actor=actor, action=action, target=group, before=before, after=_group_words(group))
    return group


def _group_words(group: AssignmentGroup) -> dict[str, object]:
    members = GroupMember.objects.for_tenant(group.tenant_id).filter(group=group)
    names = sorted(person(m.user) or "" for m in members.select_related("user"))
    return {
        "name": group.name,
        "slug": group.slug,
        "description": group.description,
        "lead": person(group.lead),
        "members": names,
        "auto_assign": group.auto_assign,
        "active": group.is_active,
    }


def _set_members(group: AssignmentGroup, users: list[User]) -> None:
    rows = GroupMember.objects.for_tenant(group.tenant_id).filter(group=group)
    wanted = {u.pk for u in users}
    current = set(rows.values_list("user_id", flat=True))
    rows.filter(user_id__in=current - wanted).delete()
    GroupMember.objects.bulk_create(
        GroupMember(tenant_id=group.tenant_id, group=group, user_id=pk)
        for pk in sorted(wanted - current)
    )


# --- categories and their routing rule --------------------------------------------------


def _route_group(
    actor: Actor, group: AssignmentGroup | None, current_id: int | None
) -> AssignmentGroup | None:
    if group is None:
        return None
    if group.tenant_id != actor.tenant.pk:
        raise InvalidInput("Route to one of the desk's groups.", field="group")
    # Keeping a rule to a group deactivated since is allowed; a new rule needs an active group.
    if not group.is_active and group.pk != current_id:
        raise InvalidInput(f"{group.name} is inactive; route to an active group.", field="group")
    return group


def _category_save(
    actor: Actor, category: Category, name: str, slug: str, group: AssignmentGroup | None
) -> Category:
    before = _category_words(category) if category.pk else {}
    category.group = _route_group(actor, group, category.group_id)
    category.name = _clean_text(name, "name", Category, what="category")
    category.slug = _clean_slug(slug, category.name, Category)
    _save_unique(category, "category")
    action = "category.changed" if before else "category.created"
    after = _category_words(category)
    audit_change(actor=actor, action=action, target=category, before=before, after=after)
    return category


def _category_words(category: Category) -> dict[str, object]:
    group = category.group.name if category.group else None
    return {"name": category.name, "slug": category.slug, "route_to_group": group}


@config_write
def category_create(
    *, actor: Actor, name: str, slug: str = "", group: AssignmentGroup | None = None
) -> Category:
    """A category; with a group, incidents reported in it are escalated to that group."""
    check_admin(actor, "create categories")
    return _category_save(actor, Category(tenant=actor.tenant), name, slug, group)


@config_write
def category_update(
    *,
    actor: Actor,
    category: Category,
    name: str,
    slug: str,
    group: AssignmentGroup | None,
) -> Category:
    check_admin(actor, "change categories")
    _check_owned(actor, category, "category")
    return _category_save(actor, category, name, slug, group)


def _set_active(actor: Actor, obj: Category | ResolutionCode, what: str, active: bool) -> None:
    check_admin(actor, f"change {what}s")
    _check_owned(actor, obj, what)
    was = obj.is_active
    obj.is_active = active
    obj.save(update_fields=["is_active"])
    noun = "category" if isinstance(obj, Category) else "resolution_code"
    audit_change(
        actor=actor,
        action=f"{noun}.{'reactivated' if active else 'deactivated'}",
        target=obj,
        before={"active": was},
        after={"active": active},
    )


@config_write
def category_deactivate(*, actor: Actor, category: Category) -> Category:
    """No longer offered when reporting; incidents already in it keep it."""
    _set_active(actor, category, "category", False)
    return category


@config_write
def category_reactivate(*, actor: Actor, category: Category) -> Category:
    _set_active(actor, category, "category", True)
    return category


# --- resolution codes -------------------------------------------------------------------


@transaction.atomic
def resolution_code_create(*, actor: Actor, label: str, slug: str = "") -> ResolutionCode:
    check_admin(actor, "add resolution codes")
    code = ResolutionCode(tenant=actor.tenant)
    code.label = _clean_text(label, "label", ResolutionCode, what="resolution code")
    code.slug = _clean_slug(slug, code.label, ResolutionCode)
    _save_unique(code, "resolution code")
    after = {"label": code.label, "slug": code.slug}
    audit_change(actor=actor, action="resolution_code.created", target=code, after=after)
    return code


@transaction.atomic
def resolution_code_rename(*, actor: Actor, code: ResolutionCode, label: str) -> ResolutionCode:
    """Change the label people see; the slug stays, since the API and past events name it."""
    check_admin(actor, "rename resolution codes")
    _check_owned(actor, code, "resolution code")
    was = code.label
    code.label = _clean_text(label, "label", ResolutionCode, what="resolution code")
    code.save(update_fields=["label"])
    audit_change(
        actor=actor,
        action="resolution_code.renamed",
        target=code,
        before={"label": was},
        after={"label": code.label},
    )
    return code


@transaction.atomic
def resolution_code_deactivate(*, actor: Actor, code: ResolutionCode) -> ResolutionCode:
    """Take a code off the list agents choose from. Codes are never deleted: resolved incidents
    and their events keep naming them."""
    check_admin(actor, "change resolution codes")
    _check_owned(actor, code, "resolution code")
    # Lock the active codes so two admins cannot each take away one of the last two.
    active = ResolutionCode.objects.for_tenant(actor.tenant).filter(is_active=True)
    others = [pk for pk in active.select_for_update().values_list("pk", flat=True) if pk != code.pk]
    if code.is_active and not others:
        raise InvalidInput(
            "Keep at least one active resolution code: agents need one to resolve incidents."
        )
    _set_active(actor, code, "resolution code", False)
    return code


@transaction.atomic
def resolution_code_reactivate(*, actor: Actor, code: ResolutionCode) -> ResolutionCode:
    _set_active(actor, code, "resolution code", True)
    return code
