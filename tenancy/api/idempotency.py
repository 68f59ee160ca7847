"""Idempotency-Key on POST: a repeat with the same body replays the first answer and creates
nothing; a repeat while the first is in flight gets 409; the same key with another body 422.

The key's record and the work commit together, in the one transaction the view opens
(tenancy/api/views.py): the record is inserted first, the answer stored last. A request that
fails, or whose database goes away before it commits, leaves nothing behind, so its retry runs
at once. While it runs, a transaction-scoped advisory lock on the key marks it in progress:
a repeat on PostgreSQL does not wait for it but gets 409 (on SQLite, where one writer runs at a
time, the repeat waits and then replays). Once it commits, the lock is gone and the record is
there: a repeat that takes the lock next reads the record and replays it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework import exceptions

from tenancy.actors import Actor
from tenancy.api.errors import Replay, Unprocessable
from tenancy.errors import Conflict
from tenancy.models import IdempotencyRecord

KEPT_HEADERS = ("Location", "ETag")
IN_PROGRESS = "A request with this Idempotency-Key is still in progress; retry shortly."


def _principal(actor: Actor) -> str:
    return f"key:{actor.api_key.pk}" if actor.kind == "integration" else f"user:{actor.user_id}"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key, checked; None when it has none or is not a POST."""
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method != "POST":
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise exceptions.ParseError("Idempotency-Key must be 1 to 255 characters.")
    return key


def _lock_id(tenant_id: int, principal: str, key: str) -> int:
    """The key as a signed 64-bit advisory lock id: the one-bigint form, a lock space apart
    from the two-int4 locks of tenancy/config_stamp.py. A clash of two keys only makes one of
    them answer 409 while the other runs."""
    digest = hashlib.sha256(f"idempotency {tenant_id} {principal} {key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _take_in_progress_mark(tenant_id: int, principal: str, key: str) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the insert below waits for the other writer's whole transaction
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(tenant_id, principal, key)]
        )
        return bool(cursor.fetchone()[0])


def idempotency_begin(request, actor: Actor, key: str) -> IdempotencyRecord:
    """Inside the request's transaction: mark the key in progress and insert its record, or
    refuse (409 in flight, 422 another body) or replay the stored answer (raised)."""
    assert connection.in_atomic_block, "the record must commit with the work"
    principal = _principal(actor)
    if not _take_in_progress_mark(actor.tenant.pk, principal, key):
        raise Conflict(IN_PROGRESS)
    fields = {"tenant": actor.tenant, "principal": principal, "key": key}
    fingerprint = _fingerprint(request)
    existing = IdempotencyRecord.objects.filter(**fields).first()
    if existing is not None:
        if not _expired(existing):
            _refuse_or_replay(existing, fingerprint)
        existing.delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                **fields, request_hash=fingerprint, method_path=request.path[:300]
            )
    except IntegrityError:
        # Only where the mark is not a lock of its own: another request took the key first.
        raise Conflict(IN_PROGRESS) from None


def _expired(record: IdempotencyRecord) -> bool:
    age = timezone.now() - record.created_at
    if record.completed:
        return age > timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    # A committed record without an answer comes only from a release that committed the record
    # before the work: its process died mid-request. Let a retry run again after a while.
    return age > timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)


def _refuse_or_replay(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.request_hash != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request; use a new key."
        )
    if not record.completed:
        raise Conflict(IN_PROGRESS)
    raise Replay(record)


def idempotency_store(record: IdempotencyRecord, response) -> None:
    """The answer, in the work's transaction: stored exactly when the work commits."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed=True,
        response_status=response.status_code,
        response_body=getattr(response, "data", None),
        response_headers={h: response[h] for h in KEPT_HEADERS if h in response},
    )


def idempotency_purge() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
