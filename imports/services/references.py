"""The tenant's rows an imported history names: groups, categories, resolution codes and the
people who worked the incidents. Found by name, created when missing, cached for the run.

They are created before each batch's transaction, in their own short ones, so a batch that
rolls back never leaves the cache pointing at rows that are gone.

People from the source become members of the tenant who are inactive from the start: their
User cannot log in (inactive, no usable password, an address under the reserved .invalid
domain that no mail reaches), and an inactive membership is never auto-assigned and not
counted in any workload. An admin sees them on the members page as deactivated.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from incidents.models import AssignmentGroup, Category, ResolutionCode
from incidents.services.config import field_max_length
from tenancy.models import Membership, Role, Tenant, User


def _unique_slug(base: str, taken: set[str], length: int) -> str:
    base = (slugify(base) or "imported")[:length]
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base[: length - len(str(n)) - 1]}-{n}"
    taken.add(slug)
    return slug


class References:
    def __init__(self, tenant: Tenant, source: str) -> None:
        self.tenant = tenant
        self.source = source
        self.groups: dict[str, AssignmentGroup] = {}
        self.categories: dict[str, Category] = {}
        self.codes: dict[str, ResolutionCode] = {}
        self.people: dict[str, User] = {}

    def ensure(self, rows: Iterable) -> None:
        groups, categories, codes, people = set(), set(), set(), set()
        for row in rows:
            groups.add(row.group)
            categories.add(row.category)
            codes.add(row.closed_code)
            people.add(row.assignee)
        self._named(AssignmentGroup, self.groups, groups - self.groups.keys())
        self._named(Category, self.categories, categories - self.categories.keys())
        self._codes(codes - self.codes.keys())
        self._people(people - self.people.keys())

    @transaction.atomic
    def _named(self, model: type[models.Model], cache: dict, names: set[str]) -> None:
        """Groups and categories: the tenant's own of that name, else a new one."""
        names.discard("")
        if not names:
            return
        scoped = model.objects.for_tenant(self.tenant)  # type: ignore[attr-defined]
        cache.update({obj.name: obj for obj in scoped.filter(name__in=names)})
        missing = sorted(names - cache.keys())
        if missing:
            taken = set(scoped.values_list("slug", flat=True))
            length = field_max_length(model, "slug")
            model.objects.bulk_create(  # type: ignore[attr-defined]
                model(tenant=self.tenant, name=name, slug=_unique_slug(name, taken, length))
                for name in missing
            )
            cache.update({obj.name: obj for obj in scoped.filter(name__in=missing)})

    @transaction.atomic
    def _codes(self, codes: set[str]) -> None:
        """A close code is the tenant's resolution code of the same slug ('Solved
        (Permanently)' is the default solved-permanently), else a new one."""
        codes.discard("")
        if not codes:
            return
        slugs = {code: (slugify(code) or "imported")[:60] for code in codes}
        scoped = ResolutionCode.objects.for_tenant(self.tenant)
        by_slug = {c.slug: c for c in scoped.filter(slug__in=slugs.values())}
        ResolutionCode.objects.bulk_create(
            ResolutionCode(tenant=self.tenant, slug=slug, label=code[:100])
            for code, slug in sorted(slugs.items())
            if slug not in by_slug
        )
        by_slug.update({c.slug: c for c in scoped.filter(slug__in=slugs.values())})
        self.codes.update({code: by_slug[slug] for code, slug in slugs.items()})

    def address(self, name: str) -> str:
        return f"{slugify(name)[:60] or 'person'}@{self.tenant.slug}.{slugify(self.source)}.invalid"

    @transaction.atomic
    def _people(self, names: set[str]) -> None:
        names.discard("")
        if not names:
            return
        emails = {self.address(name): name for name in names}
        found = {u.email: u for u in User.objects.filter(email__in=emails)}
        new = [
            User(email=email, full_name=name, is_active=False, password=make_password(None))
            for email, name in sorted(emails.items())
            if email not in found
        ]
        User.objects.bulk_create(new, ignore_conflicts=True)
        found.update({u.email: u for u in User.objects.filter(email__in=emails)})
        Membership.objects.bulk_create(
            (
                Membership(
                    tenant=self.tenant,
                    user=user,
                    role=Role.AGENT,
                    is_active=False,
                    deactivated_at=timezone.now(),
                )
                for user in found.values()
            ),
            ignore_conflicts=True,  # already a member (an earlier import): leave them as they are
        )
        self.people.update({emails[email]: user for email, user in found.items()})
