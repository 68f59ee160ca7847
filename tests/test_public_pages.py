"""Every URL pattern, walked from Django's resolver, asked anonymously (GET and POST) with a
damaged token, another tenant's object and a genuine token for another object: each answer must
be exactly the answer for an object that does not exist, and show none of the object's data.

A page behind the log-in passes by redirecting every variant to the log-in page alike. A new
public page passes only if it checks what it is given before it reads: one that shows an
incident by its number without a token, or reads before it verifies, answers differently for
a real and a missing object and fails here. A new page with a token fails until GENUINE below
can make its token, so its genuine links are tried from another tenant too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from escalation.models import AlertKind, SlaAlert
from escalation.services.alerts import ack_token
from incidents.links import answer_url, follow_url, unsubscribe_url
from incidents.models import Incident
from incidents.services import incident_contact_add
from oncall.ical import ical_url
from tenancy import services as tenancy_services
from tenancy.links import SignupClaim, invitation_url, signup_url
from tenancy.models import Invitation
from tests.escalation.sla_helpers import report_high
from tests.links import page_text
from tests.portal.conftest import Desk

if TYPE_CHECKING:
    from tests.conftest import People

SECRET_TITLE = "Payroll export shows every salary"
SECRET_WORDS = [SECRET_TITLE, "nina@acme.test", "sam@acme.test", "rita@acme.test"]
MISSING_NUMBER = 987654

# Pages public by design whose answer names the organisation of the URL, and why that is fine.
PUBLIC_BY_DESIGN = {
    "tenancy-signup": "the sign-up form of an organisation (a slug is in every URL anyway)",
    "tenancy-signup-sent": "the page after sign-up, naming the organisation it was sent for",
}


@dataclass
class World:
    incident: Incident
    alert: SlaAlert
    invitation: Invitation
    people: People

    def genuine(self, url_name: str) -> dict[str, str]:
        """The path parameters of a genuine acme link of this kind, from the desk's own maker."""
        makers: dict[str, Callable[[], str]] = {
            "portal-answer": lambda: answer_url(self.incident, "fixed"),
            "portal-unsubscribe": lambda: unsubscribe_url(self.incident, "rita@acme.test"),
            # A contact without an account who follows the incident (added in `world`).
            "portal-follow": lambda: follow_url(self.incident, "sam@acme.test"),
            "portal-follow-file": lambda: follow_url(self.incident, "sam@acme.test"),
            "escalation-alert-ack-link": lambda: (
                f"/t/acme/sla/ack/{ack_token(self.alert, self.people.bob)}/"
            ),
            "tenancy-invitation-accept": lambda: invitation_url(self.invitation),
            "tenancy-signup-confirm": lambda: signup_url(
                SignupClaim(tenant=self.people.acme, email="sam@acme.test", full_name="Sam")
            ),
            "password_reset_confirm": lambda: (
                f"/password-reset/{urlsafe_base64_encode(force_bytes(self.people.rita.pk))}/"
                f"{default_token_generator.make_token(self.people.rita)}/"
            ),
            # A person's on-call shifts, for their calendar app (the token ends in ".ics").
            "oncall-ical-feed": lambda: ical_url(self.people.acme, self.people.bob),
        }
        assert url_name in makers, (
            f"{url_name} takes a token: teach tests/test_public_pages.py to make a genuine one"
        )
        parts = urlsplit(makers[url_name]()).path.rstrip("/").split("/")
        if url_name == "password_reset_confirm":
            return {"uidb64": parts[-2], "token": parts[-1]}
        return {"token": parts[-1].removesuffix(".ics")}


def damaged(token: str) -> str:
    """The same token with its signature changed: genuine-looking, but not ours."""
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


@pytest.fixture
def world(people, django_capture_on_commit_callbacks) -> World:
    desk = Desk(people, django_capture_on_commit_callbacks)
    report_high(people)  # a second acme incident, so numbers and ids exist beside the one below
    high = report_high(people, description="The export is open to all staff.")
    Incident.objects.filter(pk=high.pk).update(title=SECRET_TITLE)
    incident_contact_add(incident=high, actor=people.actor(people.alice), email="sam@acme.test")
    incident = desk.resolve(Incident.objects.get(pk=high.pk))
    alert = SlaAlert.objects.filter(incident_id=incident.pk, kind=AlertKind.ASSIGNED).first()
    assert alert is not None
    invitation = tenancy_services.membership_invite(
        actor=people.actor(people.ada), email="nina@acme.test", role="agent"
    )
    report_high(people)  # globex gets none: its URLs are asked with acme's objects
    return World(incident=incident, alert=alert, invitation=invitation, people=people)


# --- Walking the resolver -------------------------------------------------------------------


def leaf_chains(resolver: URLResolver, chain: tuple = ()) -> Iterator[tuple]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from leaf_chains(pattern, (*chain, pattern))
        else:
            yield (*chain, pattern)


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def fill(chain: tuple, values: dict[str, str]) -> str:
    """The path of a chain of patterns with `values` in its parameters."""
    path = ""
    for node in chain:
        pattern = node.pattern
        text = str(pattern)
        if isinstance(pattern, RoutePattern):
            path += ROUTE_PARAM.sub(lambda m: values[m["name"]], text)
        else:  # the admin's regexes: a named group takes its value, or its first alternative
            text = REGEX_GROUP.sub(lambda m: values.get(m["name"], m["body"].split("|")[0]), text)
            path += text.lstrip("^").rstrip("$").replace("\\", "")
    return "/" + path


def parameters(chain: tuple) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in chain:
        pattern = node.pattern
        if isinstance(pattern, RoutePattern):
            found |= {
                m["name"]: m["converter"] or "str" for m in ROUTE_PARAM.finditer(str(pattern))
            }
        else:
            found |= {name: "regex" for name in pattern.regex.groupindex}
    return found


def variants(chain: tuple, world: World) -> dict[str, dict[str, str]]:
    """The missing object, and the ways a real or foreign one may be asked for."""
    params = parameters(chain)
    name = chain[-1].name
    real = real_values(params, world)
    missing = {key: missing_value(key, converter) for key, converter in params.items()}
    if "token" not in params:
        if not (set(params) - {"app_label", "url"}):
            return {"missing": missing}
        return {"missing": missing, "real": real, "foreign": {**real, **foreign(params)}}
    real |= world.genuine(name)  # a genuine link in every part, then one part changed
    genuine = {"token": real["token"]}
    tried = {"missing": missing, "damaged token": {**real, "token": damaged(real["token"])}}
    if set(params) - {"tenant_slug", "token"}:  # the path names an object beside the token's
        tried["genuine token, missing object"] = {**missing, **genuine, **same_tenant(params)}
    if "tenant_slug" in params:
        tried["genuine token, another tenant"] = {**real, **foreign(params)}
    if other_object(params, world):
        tried["genuine token, another object"] = {**real, **other_object(params, world)}
    return tried


def real_values(params: dict[str, str], world: World) -> dict[str, str]:
    incident = world.incident
    values = {
        "tenant_slug": "acme",
        "number": str(incident.number),
        "uidb64": urlsafe_base64_encode(force_bytes(world.people.rita.pk)),
        "app_label": "tenancy",
        "url": "no/such",
        "action": "accept",
        "priority": "high",
        "slug": "network",
    }
    out = {}
    for key, converter in params.items():
        if key == "number" and converter == "str":
            out[key] = incident.reference
        elif key in values:
            out[key] = values[key]
        else:  # any other id: one that exists
            out[key] = str(incident.pk)
    return out


def missing_value(key: str, converter: str) -> str:
    if key == "tenant_slug":
        return "no-such-organisation"
    if key == "number" and converter == "str":
        return f"INC-{MISSING_NUMBER}"
    if key == "uidb64":
        return urlsafe_base64_encode(force_bytes(MISSING_NUMBER))
    if key == "token":
        return "x"
    if key in ("app_label", "url"):
        return {"app_label": "tenancy", "url": "no/such"}[key]
    if converter in ("int", "path") or key in ("pk", "id"):
        return str(MISSING_NUMBER)
    return "no-such-thing"


def foreign(params: dict[str, str]) -> dict[str, str]:
    return {"tenant_slug": "globex"} if "tenant_slug" in params else {}


def same_tenant(params: dict[str, str]) -> dict[str, str]:
    return {"tenant_slug": "acme"} if "tenant_slug" in params else {}


def other_object(params: dict[str, str], world: World) -> dict[str, str]:
    """Another real incident (or person) of the same tenant, for links that name one."""
    if "uidb64" in params:
        return {"uidb64": urlsafe_base64_encode(force_bytes(world.people.bob.pk))}
    if "number" not in params:
        return {}
    other = Incident.objects.filter(tenant=world.people.acme).exclude(pk=world.incident.pk)
    first = other.order_by("number").first()
    assert first is not None, "the world fixture reports a second acme incident"
    return {"number": str(first.number)}


# --- Comparing answers ----------------------------------------------------------------------


def answer(client, method: str, path: str) -> tuple[int, str, str, str]:
    data = {"rating": "5", "reason": "still broken", "muted": "1", "full_name": "Mallory"}
    response = getattr(client, method)(path, data) if method == "post" else client.get(path)
    location = response.headers.get("Location", "").replace(path, "<path>")
    body = page_text(response).replace(path, "<path>") if response.content else ""
    for word in SECRET_WORDS:
        assert word not in body, f"{method.upper()} {path} shows {word!r}"
    return response.status_code, response.headers.get("Content-Type", ""), location, body


def walk(client, world: World) -> tuple[int, int]:
    """Ask every pattern in every variant; (answers compared, pages that answered anonymously)."""
    asked = public = 0
    for chain in leaf_chains(get_resolver()):
        name = chain[-1].name
        if name in PUBLIC_BY_DESIGN:
            continue
        tried = variants(chain, world)
        for method in ("get", "post"):
            expected = answer(client, method, fill(chain, tried["missing"]))
            public += expected[0] not in (301, 302, 401, 403, 404, 405)
            for label, values in tried.items():
                if label == "missing":
                    continue
                path = fill(chain, values)
                got = answer(client, method, path)
                asked += 1
                assert got == expected, (
                    f"{method.upper()} {path} ({name}, {label}) answers differently from a "
                    f"missing object: {got[:3]} vs {expected[:3]}"
                )
    return asked, public


def test_every_page_answers_a_foreign_or_damaged_link_as_a_missing_one(client, world):
    asked, public = walk(client, world)
    assert asked > 600  # the walk reached the whole resolver, the admin's patterns included
    assert public >= 5  # and the pages without a log-in were among them (log-in, reset, ...)
    world.incident.refresh_from_db()
    world.invitation.refresh_from_db()
    assert world.incident.state == "resolved"  # none of the foreign links acted
    assert world.invitation.accepted_at is None
    assert not world.incident.mutes.exists()


def test_the_walk_fails_on_a_public_page_that_reads_before_it_checks(client, world, settings):
    """The walk can fail: a public page that shows an incident's number by its URL does."""
    settings.ROOT_URLCONF = "tests.leaky_urls"
    with pytest.raises(AssertionError, match=r"GET /t/acme/leak/\d+/ \(leaky, real\)"):
        walk(client, world)


def test_the_walk_fails_on_a_token_page_it_cannot_make_genuine_links_for(client, world, settings):
    settings.ROOT_URLCONF = "tests.leaky_token_urls"
    with pytest.raises(AssertionError, match="leaky-token takes a token: teach"):
        walk(client, world)
