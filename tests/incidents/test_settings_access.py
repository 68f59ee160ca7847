"""Only the tenant's admins reach the settings pages; everyone else gets the stranger's 404."""

import pytest

from incidents.models import AssignmentGroup, Category, PriorityLevel, ResolutionCode
from tests.factories import CategoryFactory, GroupFactory
from tests.incidents.settings_support import url


@pytest.fixture
def pages(people):
    code = ResolutionCode.objects.for_tenant(people.acme).first()
    group, category = people.group, people.network
    return [
        ("get", url("settings-groups")),
        ("get", url("settings-group-create")),
        ("post", url("settings-group-create")),
        ("get", url("settings-group-edit", group.pk)),
        ("post", url("settings-group-edit", group.pk)),
        ("get", url("settings-categories")),
        ("get", url("settings-category-create")),
        ("get", url("settings-category-edit", category.pk)),
        ("post", url("settings-category-deactivate", category.pk)),
        ("get", url("settings-category-deactivate", category.pk)),
        ("post", url("settings-category-reactivate", category.pk)),
        ("get", url("settings-resolution-codes")),
        ("post", url("settings-resolution-codes")),
        ("get", url("settings-resolution-code-rename", code.pk)),
        ("post", url("settings-resolution-code-deactivate", code.pk)),
        ("post", url("settings-resolution-code-reactivate", code.pk)),
        ("get", url("settings-matrix")),
        ("post", url("settings-matrix")),
    ]


@pytest.mark.parametrize("who", ["rita", "alice", "max", "charlie"])
def test_every_settings_page_is_a_404_for_anyone_but_an_admin(people, login, pages, who):
    client = login(getattr(people, who))
    answers = {(method, path): getattr(client, method)(path).status_code for method, path in pages}
    assert set(answers.values()) == {404}, answers


@pytest.mark.parametrize("who", ["rita", "alice", "max", "charlie"])
def test_a_refused_post_changes_nothing(people, login, who):
    client = login(getattr(people, who))
    client.post(url("settings-group-create"), {"name": "Intruders", "is_active": "on"})
    client.post(url("settings-category-deactivate", people.network.pk))
    client.post(url("settings-matrix"), {"preset": "itil"})
    assert not AssignmentGroup.objects.filter(name="Intruders").exists()
    assert Category.objects.get(pk=people.network.pk).is_active
    scale = PriorityLevel.objects.for_tenant(people.acme).filter(is_active=True)
    assert list(scale.order_by("rank").values_list("slug", flat=True)) == ["high", "medium", "low"]


def test_an_admin_asking_for_another_tenants_objects_gets_404(people, login):
    theirs_group = GroupFactory(tenant=people.globex, name="Globex desk")
    theirs_category = CategoryFactory(tenant=people.globex, name="Globex stuff")
    theirs_code = ResolutionCode.objects.for_tenant(people.globex).first()
    client = login(people.ada)
    assert client.get(url("settings-group-edit", theirs_group.pk)).status_code == 404
    assert client.get(url("settings-category-edit", theirs_category.pk)).status_code == 404
    assert client.post(url("settings-category-deactivate", theirs_category.pk)).status_code == 404
    assert client.get(url("settings-resolution-code-rename", theirs_code.pk)).status_code == 404
    assert (
        client.post(url("settings-resolution-code-deactivate", theirs_code.pk)).status_code == 404
    )
    theirs_category.refresh_from_db()
    theirs_code.refresh_from_db()
    assert theirs_category.is_active and theirs_code.is_active


def test_the_other_tenants_settings_are_a_404_for_our_admin(people, login):
    client = login(people.ada)
    assert client.get(url("settings-groups", tenant="globex")).status_code == 404
    assert client.get(url("settings-matrix", tenant="globex")).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(people, client):
    response = client.get(url("settings-matrix"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_admin_reaches_every_page(people, login):
    client = login(people.ada)
    code = ResolutionCode.objects.for_tenant(people.acme).first()
    for path in [
        url("settings-groups"),
        url("settings-group-create"),
        url("settings-group-edit", people.group.pk),
        url("settings-categories"),
        url("settings-category-create"),
        url("settings-category-edit", people.network.pk),
        url("settings-resolution-codes"),
        url("settings-resolution-code-rename", code.pk),
        url("settings-matrix"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b'<nav aria-label="Settings areas"' in response.content
