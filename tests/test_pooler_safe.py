"""Behind PgBouncer in transaction pooling, each transaction may run on another server
connection, so nothing may leave state in a database session (docs/deployment.md, "PgBouncer").
CI runs the API, SLA and fault tests through a real PgBouncer; this scan names the SQL that
would work there by luck (one client, one server connection) and break under load."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SKIP = {".venv", "tests", "node_modules", "bench", "static", ".git", "var"}

# Each: what it is, and the pattern in a string literal of the desk's code.
SESSION_STATE = {
    "a session-level advisory lock (use pg_advisory_xact_lock)": re.compile(
        r"pg_(?:try_)?advisory_lock(?:_shared)?\s*\("
    ),
    "a session SET (use SET LOCAL or set_config(..., true))": re.compile(
        # At a statement's start only: an UPDATE's SET clause may begin a line of its own.
        r"(?:\A|;)\s*SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)[a-z_]"
    ),
    "set_config for the session (its third argument must be true)": re.compile(
        r"set_config\([^)]*,\s*false\s*\)", re.IGNORECASE
    ),
    "LISTEN/NOTIFY (a listener needs its own session)": re.compile(
        r"(?:^|;)\s*(?:LISTEN|UNLISTEN)\s", re.MULTILINE
    ),
    "a named prepared statement": re.compile(r"(?:^|;)\s*PREPARE\s+\w+", re.MULTILINE),
    "a temporary table (it lives as long as the session)": re.compile(
        r"CREATE\s+(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\s+TABLE"
    ),
    "a cursor WITH HOLD (it outlives its transaction)": re.compile(r"WITH\s+HOLD"),
}

OPENING_QUOTE = re.compile("^[rbufRBUF]*(\"\"\"|'''|\"|')")


def session_state_in(source: str) -> list[str]:
    """What of SESSION_STATE the string literals of this Python source hold."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.STRING:
            continue
        text = OPENING_QUOTE.sub("", token.string)
        for what, pattern in SESSION_STATE.items():
            if pattern.search(text):
                found.append(f"line {token.start[0]}: {what}")
    return found


def desk_sources() -> list[Path]:
    return [
        path for path in BASE_DIR.rglob("*.py") if not SKIP & set(path.relative_to(BASE_DIR).parts)
    ]


def test_no_sql_of_the_desk_keeps_state_in_a_database_session():
    found = {
        str(path.relative_to(BASE_DIR)): hits
        for path in desk_sources()
        if (hits := session_state_in(path.read_text()))
    }
    assert found == {}


def test_the_scan_sees_each_kind_of_session_state_and_passes_the_transaction_kinds():
    risky = """
cursor.execute("SELECT pg_advisory_lock(%s)", [key])
cursor.execute("SET statement_timeout = 5000")
cursor.execute("SELECT set_config('lock_timeout', '1s', false)")
cursor.execute("LISTEN incidents")
cursor.execute("PREPARE q AS SELECT 1")
cursor.execute("CREATE TEMP TABLE t (x int)")
cursor.execute("DECLARE c CURSOR WITH HOLD FOR SELECT 1")
"""
    assert len(session_state_in(risky)) == len(SESSION_STATE)
    safe = '''
cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
cursor.execute("SET LOCAL statement_timeout = 5000")
cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
cursor.execute("SELECT set_config('lock_timeout', '1s', true)")
cursor.execute("UPDATE incidents_incident SET state = %s WHERE id = %s", [s, i])
cursor.execute("""UPDATE incidents_incident
   SET state = %s WHERE id = %s""", [s, i])
'''
    assert session_state_in(safe) == []
    assert len(desk_sources()) > 100  # the walk reaches the desk's code
