"""The sign-in flows waiting for their callback, kept in the session by their state: which tenant
(one callback URL serves every tenant), whether it is an admin's "try a sign-in", and where to go
after. Authlib keeps the state, nonce and PKCE verifier beside them; both are used once."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

KEY = "sso_flows"
MAX_AGE = 15 * 60  # a sign-in at the provider takes minutes, not hours
MAX_FLOWS = 5  # several tabs at once; an abandoned one does not pile up


def flow_start(session: SessionBase, state: str, **data: Any) -> None:
    now = time.time()
    flows = {
        s: f for s, f in dict(session.get(KEY) or {}).items() if now - f.get("at", 0) < MAX_AGE
    }
    flows[state] = {**data, "at": now}
    newest = sorted(flows.items(), key=lambda item: item[1]["at"])[-MAX_FLOWS:]
    session[KEY] = dict(newest)


def flow_take(session: SessionBase, state: str) -> dict[str, Any] | None:
    """The flow of this state, removed so that a replay of the callback finds nothing."""
    flows = dict(session.get(KEY) or {})
    flow = flows.pop(state, None) if state else None
    session[KEY] = flows
    if flow is None or time.time() - flow.get("at", 0) >= MAX_AGE:
        return None
    return flow
