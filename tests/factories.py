"""Factories for the tests. Tenants are made through tenant_create so they get their defaults."""

from typing import Any

import factory

from incidents.models import AssignmentGroup, Category, GroupMember
from tenancy.models import Membership, Role, Tenant, User
from tenancy.services import tenant_create

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


def make_tenant(slug: str, name: str | None = None, **fields: Any) -> Tenant:
    tenant = tenant_create(slug=slug, name=name or slug.title())
    for key, value in fields.items():
        setattr(tenant, key, value)
    if fields:
        tenant.save()
    return tenant


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.AGENT


class GroupFactory(factory.django.DjangoModelFactory[AssignmentGroup]):
    class Meta:
        model = AssignmentGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


def add_to_group(group: AssignmentGroup, *users: User) -> None:
    for user in users:
        GroupMember.objects.get_or_create(tenant_id=group.tenant_id, group=group, user=user)
