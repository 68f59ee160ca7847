"""The API tests' clients (tests/api/conftest.py), for the reviews API tests."""

from tests.api.conftest import api, api_for, make_key, session_for

__all__ = ["api", "api_for", "make_key", "session_for"]
