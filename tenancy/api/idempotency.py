"""Idempotency-Key on POST: a repeat with the same body replays the first answer and creates
nothing; a repeat while the first is in flight gets 409; the same key with another body 422.

The record is inserted (committed) before the work starts, so concurrent repeats see it; the
work and the stored answer then commit in one transaction, so an answer is stored exactly when
its change is.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions

from tenancy.actors import Actor
from tenancy.api.errors import Replay, Unprocessable
from tenancy.errors import Conflict
from tenancy.models import IdempotencyRecord

KEPT_HEADERS = ("Location", "ETag")


def _principal(actor: Actor) -> str:
    return f"key:{actor.api_key.pk}" if actor.kind == "integration" else f"user:{actor.user_id}"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_begin(request, actor: Actor) -> IdempotencyRecord | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method != "POST":
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise exceptions.ParseError("Idempotency-Key must be 1 to 255 characters.")
    fields = {"tenant": actor.tenant, "principal": _principal(actor), "key": key}
    fingerprint = _fingerprint(request)
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    **fields, request_hash=fingerprint, method_path=request.path[:300]
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(**fields).first()
            if existing is None or _expired(existing):
                IdempotencyRecord.objects.filter(**fields).delete()
                continue
            _refuse_or_replay(existing, fingerprint)
    raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")


def _expired(record: IdempotencyRecord) -> bool:
    age = timezone.now() - record.created_at
    if record.completed:
        return age > timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    # An answer never stored means the process died mid-request; let a retry run again.
    return age > timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)


def _refuse_or_replay(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.request_hash != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request; use a new key."
        )
    if not record.completed:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    raise Replay(record)


def idempotency_store(record: IdempotencyRecord, response) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed=True,
        response_status=response.status_code,
        response_body=getattr(response, "data", None),
        response_headers={h: response[h] for h in KEPT_HEADERS if h in response},
    )


def idempotency_forget(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()


def idempotency_purge() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
