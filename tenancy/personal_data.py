"""Personal data: everything the desk holds about one person in one tenant, exported as JSON
and erased (pseudonymised) when they have left (docs/personal-data.md).

Tenancy is the lowest layer and cannot know the incidents, mails or articles that name a
person, so each app that holds personal data registers what it holds from its
AppConfig.ready(), as with tenancy/hooks.py: a Holder with an exporter and an eraser. Most apps
declare their fields (`Held`) and let `declare()` build both; an app with something unusual
passes its own functions. Every field that can name a person must be covered by a Holder's
`covers` (tests/tenancy/test_personal_data_coverage.py walks the models), so a new app cannot
forget its people.

Erasing replaces, in this tenant's rows: links to the person's account (detached: set to
NULL), copies of their name (the pseudonym), their address (the pseudonym's, or emptied) and
rows that are only about them (deleted). Incidents, comments, articles stay.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Replace

from tenancy.models import Tenant, User

# Fields never exported, whoever's row it is: secrets and internal indexes.
NOT_EXPORTED = frozenset(
    {"password", "hashed_secret", "imap_password", "secret", "key", "search_document"}
)


@dataclass(frozen=True)
class Person:
    """The one being exported or erased, as they were before anything changed: rows are
    found by their account and by their address, which erasing replaces."""

    user: User
    email: str
    name: str


@dataclass(frozen=True)
class Pseudonym:
    name: str
    email: str


@dataclass(frozen=True)
class Held:
    """One place a person is held: `field` is a link to their account or a field holding their
    address; erase says what becomes of the rows found through it: "detach" (the link set to
    NULL), "delete", "alias" (the address replaced by the pseudonym's) or "blank" (emptied).
    `names` are fields of the same rows that copy their name (set to the pseudonym), `clear`
    fields emptied (a raw message with their From header and words)."""

    model: type[models.Model]
    field: str
    erase: str
    names: tuple[str, ...] = ()
    clear: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"

    def rows(self, tenant: Tenant, person: Person) -> models.QuerySet:
        rows = self.model._default_manager.filter(tenant=tenant)
        if self.model._meta.get_field(self.field).is_relation:
            return rows.filter(**{self.field: person.user})
        return rows.filter(**{f"{self.field}__iexact": person.email})

    def covers(self) -> set[str]:
        label = self.model._meta.label
        return {f"{label}.{name}" for name in (self.field, *self.names, *self.clear)}

    def erase_rows(self, tenant: Tenant, person: Person, alias: Pseudonym) -> int:
        rows = self.rows(tenant, person)
        if self.erase == "delete":
            return rows.delete()[0]
        changes: dict[str, Any] = {name: alias.name for name in self.names}
        for name in self.clear:
            empty = isinstance(self.model._meta.get_field(name), models.BinaryField)
            changes[name] = b"" if empty else ""
        changes[self.field] = {"detach": None, "alias": alias.email, "blank": ""}[self.erase]
        return rows.update(**changes, **_version_bump(self.model))


def _version_bump(model: type[models.Model]) -> dict[str, Any]:
    """An incident open in someone's desk is then refused as changed, rather than a stale form
    writing the old name back."""
    if any(f.name == "version" for f in model._meta.concrete_fields):
        return {"version": F("version") + 1}
    return {}


def _replaced(value: Any, person: Person, alias: Pseudonym) -> Any:
    if isinstance(value, str):
        if person.name and value == person.name:
            return alias.name
        return alias.email if value.lower() == person.email.lower() else value
    if isinstance(value, dict):
        return {k: _replaced(v, person, alias) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, person, alias) for v in value]
    return value


@dataclass(frozen=True)
class Mentioned:
    """A JSON field whose values may name the person (an event's {"assignee": "Rita R."}, an
    alert's recipients): erasing replaces each value that is exactly their name or address."""

    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"

    def rows(self, tenant: Tenant, person: Person) -> models.QuerySet:
        found = Q(mention_text__icontains=person.email)
        if person.name:
            found |= Q(mention_text__contains=person.name)
        rows = self.model._default_manager.filter(tenant=tenant)
        return rows.annotate(mention_text=Cast(self.field, models.TextField())).filter(found)

    def erase_rows(self, tenant: Tenant, person: Person, alias: Pseudonym) -> int:
        changed = 0
        for pk, value in self.rows(tenant, person).values_list("pk", self.field):
            new = _replaced(value, person, alias)
            if new != value:
                changed += self.model._default_manager.filter(pk=pk).update(**{self.field: new})
        return changed


@dataclass(frozen=True)
class Written:
    """Text that may spell the person's full name or address (a comment, a description, a
    review's timeline copied from events): erasing replaces each occurrence, as written, with the
    pseudonym's. A first name alone ("Hi Rita") is not recognised."""

    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"

    def rows(self, tenant: Tenant, person: Person) -> models.QuerySet:
        found = Q(**{f"{self.field}__icontains": person.email})
        if person.name:
            found |= Q(**{f"{self.field}__contains": person.name})
        return self.model._default_manager.filter(tenant=tenant).filter(found)

    def erase_rows(self, tenant: Tenant, person: Person, alias: Pseudonym) -> int:
        text: Any = Replace(self.field, Value(person.email), Value(alias.email))
        if person.name:
            text = Replace(text, Value(person.name), Value(alias.name))
        rows = self.rows(tenant, person)
        return rows.update(**{self.field: text}, **_version_bump(self.model))


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview | bytes):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode("ascii")}
    return value


def row_data(row: models.Model) -> dict[str, Any]:
    """A row's own fields (links by id), for the export; DjangoJSONEncoder writes the rest."""
    return {
        f.attname: _plain(getattr(row, f.attname))
        for f in row._meta.concrete_fields
        if f.name not in NOT_EXPORTED
    }


Exporter = Callable[[Tenant, Person], dict[str, list[dict[str, Any]]]]
Eraser = Callable[[Tenant, Person, Pseudonym], dict[str, int]]


@dataclass
class Holder:
    """What one app holds: its exporter (named lists of rows), its eraser (how many rows of
    each kind it changed), and the fields they cover ("app.Model.field"). `kept` are fields
    deliberately left as they are, each with why."""

    app: str
    exporter: Exporter
    eraser: Eraser
    covers: set[str]
    kept: dict[str, str] = field(default_factory=dict)


HOLDERS: dict[str, Holder] = {}


def register(holder: Holder) -> Holder:
    """Called from the holding app's AppConfig.ready(); registering again replaces."""
    HOLDERS[holder.app] = holder
    return holder


def declare(
    app: str,
    held: Iterable[Held],
    *,
    mentioned: Iterable[Mentioned | Written] = (),
    kept: dict[str, str] | None = None,
    exporter: Exporter | None = None,
    eraser: Eraser | None = None,
) -> Holder:
    """Register the app's declared fields; `exporter`/`eraser` add to what they do."""
    held = tuple(held)
    places: tuple[Held | Mentioned | Written, ...] = (*held, *mentioned)

    def export(tenant: Tenant, person: Person) -> dict[str, list[dict[str, Any]]]:
        found = {
            p.label: [row_data(r) for r in p.rows(tenant, person).order_by("pk")] for p in places
        }
        found = {label: rows for label, rows in found.items() if rows}
        return {**found, **(exporter(tenant, person) if exporter else {})}

    def erase(tenant: Tenant, person: Person, alias: Pseudonym) -> dict[str, int]:
        changed = {p.label: p.erase_rows(tenant, person, alias) for p in places}
        changed.update(eraser(tenant, person, alias) if eraser else {})
        return {label: count for label, count in changed.items() if count}

    covers = {p.label for p in places}.union(*(h.covers() for h in held))
    return register(Holder(app, export, erase, covers, dict(kept or {})))


def personal_fields() -> set[str]:
    """Every field of every model that can hold a person: a link to the User model, an email
    or IP address, a copy of a name. What the registered holders must cover."""
    from django.apps import apps

    found = set()
    for model in apps.get_models():
        if model._meta.app_label in ("admin", "auth", "contenttypes", "sessions", "axes"):
            continue
        fields = model._meta.concrete_fields
        has_email = any(isinstance(f, models.EmailField) for f in fields)
        for f in fields:
            if _is_personal(f, has_email):
                found.add(f"{model._meta.label}.{f.name}")
    return found


PERSON_NAME_ENDINGS = ("actor_name", "author_name", "contact_name", "full_name", "_email")


def _is_personal(f: models.Field, has_email: bool) -> bool:
    from django.contrib.auth import get_user_model

    if f.is_relation:
        return f.related_model is get_user_model()
    if isinstance(f, models.EmailField | models.GenericIPAddressField):
        return True
    if f.name in ("sender", "address") or f.name.endswith(PERSON_NAME_ENDINGS):
        return True
    return has_email and f.name == "name"  # a contact's name beside their address


def uncovered() -> set[str]:
    """Personal fields no holder covers or keeps on purpose (the coverage test's answer)."""
    covered: set[str] = set()
    for holder in HOLDERS.values():
        covered |= holder.covers | set(holder.kept)
    return personal_fields() - covered
