"""The base of every API view: tenant and actor from the credentials, scopes, rate limit,
Idempotency-Key, problem+json errors."""

from __future__ import annotations

from django.db import transaction
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from tenancy import rls
from tenancy.api.auth import ApiAccess, ApiKeyAuthentication, resolve_actor
from tenancy.api.idempotency import idempotency_begin, idempotency_key, idempotency_store
from tenancy.api.throttling import KeyRateThrottle


class TenantAPIView(GenericAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, ApiAccess]
    throttle_classes = [KeyRateThrottle]
    admin_write = False  # True: unsafe methods need the admin scope or role
    staff_only = False  # True: requesters may not call it at all
    metadata_class = None  # OPTIONS answers 405; the OpenAPI schema is the description

    _idempotency = None
    _atomic = None

    def perform_authentication(self, request) -> None:
        if request.user and request.user.is_authenticated:
            request.actor = resolve_actor(request)
            request.tenant = request.actor.tenant
            # The rest of the request behind the tenant wall (the middleware ends the scope).
            rls.enter(rls.Scope(tenant_id=request.tenant.pk, user_id=request.user.pk))

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        key = idempotency_key(request)
        if key is None:
            return
        # One transaction for the key's record, the work and the stored answer: a request that
        # fails or loses its database leaves no record behind, and its retry runs at once.
        atomic = transaction.atomic()
        atomic.__enter__()
        self._atomic = atomic
        self._idempotency = idempotency_begin(request, request.actor, key)

    def _end_atomic(self, *, commit: bool) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is None:
            return
        if commit:
            atomic.__exit__(None, None, None)
        else:
            atomic.__exit__(RuntimeError, RuntimeError("request failed"), None)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._atomic is not None:
            # No record: the key was refused or its answer replayed, and nothing is to be kept.
            keep = self._idempotency is not None and response.status_code < 500
            try:
                if keep:
                    idempotency_store(self._idempotency, response)
            except BaseException:
                # The database went away mid-request: end the block all the same, or this
                # thread's connection would stay inside it for every later request.
                self._end_atomic(commit=False)
                raise
            self._end_atomic(commit=keep)
        return response

    def handle_exception(self, exc):
        try:
            return super().handle_exception(exc)
        except BaseException:
            self._end_atomic(commit=False)
            raise

    @property
    def actor(self):
        return self.request.actor

    @property
    def tenant(self):
        return self.request.actor.tenant
