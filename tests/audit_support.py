"""Exactly one audit record of an action among those a test wrote (the `audit` fixture of
tests/conftest.py)."""

from __future__ import annotations


def one(audit, action):
    records = audit()
    assert [r.action for r in records] == [action]
    return records[0]
