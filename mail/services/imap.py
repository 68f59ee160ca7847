"""Polling an existing mailbox over IMAP: what arrives there is stored as if it had come to the
SMTP intake (mail.services.store), then processed the same way.

"Taken" means flagged `\\Seen` and `$DeskTaken` on the server, and the flags are set only after
`inbound_store` returned for the message. A poll looks for messages without `$DeskTaken` (not
for unseen ones), so a mail that someone already read in the mailbox is still taken; a crash
between the store and the flags means the next poll fetches the message again, and the store
recognises its Message-ID and changes nothing. Two polls of one mailbox at once (a slow poll
overlapping the next) are harmless for the same reason. Nothing is ever deleted or moved.

The connection is TLS (from the start, or STARTTLS), with the certificate checked against the
system's CAs plus MAIL_IMAP_CA_FILE. Each poll records when it ran and why it stopped, in words
for the tenant admin, on the intake address.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import timezone

# imap-tools also raises imaplib's line limit (for a large SEARCH answer) when imported.
from imap_tools.imap_utf7 import utf7_encode

from mail.models import ImapSecurity, IntakeAddress
from mail.services.store import inbound_store
from tenancy.addresses import AddressRefused, deliverable_addresses

log = logging.getLogger(__name__)

TAKEN = "$DeskTaken"
# Past MAIL_MAX_BYTES: left in the mailbox, unread, for a person to deal with.
TOO_LARGE = "$DeskTooLarge"
# One FETCH holds at most this many messages, or this many bytes (one message may exceed it).
BATCH_MESSAGES = 10
BATCH_BYTES = 20 * 1024 * 1024
ERROR_MAX = 2000
POLLED_WITH = (
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
)
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class PollFailed(Exception):
    """Why a poll stopped, in words for the tenant admin."""


def _polled() -> QuerySet[IntakeAddress]:
    # Across tenants on purpose: beat polls every desk's mailboxes.
    return IntakeAddress.objects.filter(is_active=True, imap_enabled=True, tenant__is_active=True)


def polled_intake_ids() -> list[int]:
    """Every address whose mailbox is polled."""
    return list(_polled().order_by("pk").values_list("pk", flat=True))


def polled_intake(intake_id: int) -> IntakeAddress | None:
    """The address, if it is still polled (it may have been switched off since the trigger)."""
    return _polled().select_related("tenant").filter(pk=intake_id).first()


def intake_poll(*, intake: IntakeAddress) -> int:
    """Take what waits in the address's mailbox (at most MAIL_IMAP_MAX_PER_POLL messages);
    how many new messages were stored. The outcome is recorded on the address."""
    poll = _Poll(intake)
    try:
        poll.run()
        error = poll.problems()
    except PollFailed as failed:
        error = " ".join(filter(None, [str(failed), poll.problems()]))
    except DatabaseError:
        raise  # the database is away: nothing to record it in; the next poll takes it all
    except Exception as exc:  # a bug or an odd server: say so on the address, poll the others
        log.exception("IMAP poll of %s failed", intake.address)
        error = f"The poll failed unexpectedly: {type(exc).__name__}: {exc}"
    if error:
        log.warning("IMAP poll of %s: %s", intake.address, error)
    intake_poll_record(intake=intake, error=error)
    return poll.stored


def intake_poll_record(*, intake: IntakeAddress, error: str) -> None:
    """When the mailbox was last polled and what went wrong ("" if nothing). An UPDATE of these
    two columns only, so an admin's edit saved meanwhile is not overwritten, and only while the
    settings are the ones polled with: an error about a password just replaced is not news."""
    now = timezone.now()
    same = {field: getattr(intake, field) for field in POLLED_WITH}
    IntakeAddress.objects.for_tenant(intake.tenant_id).filter(pk=intake.pk, **same).update(
        imap_last_polled_at=now, imap_last_error=error[:ERROR_MAX]
    )
    intake.imap_last_polled_at = now
    intake.imap_last_error = error[:ERROR_MAX]


def tls_context() -> ssl.SSLContext:
    """Certificates checked, host names matched: the system's CAs plus MAIL_IMAP_CA_FILE."""
    context = ssl.create_default_context()
    if settings.MAIL_IMAP_CA_FILE:
        context.load_verify_locations(cafile=settings.MAIL_IMAP_CA_FILE)
    return context


class _Poll:
    def __init__(self, intake: IntakeAddress) -> None:
        self.intake = intake
        self.host = intake.imap_host.strip()
        self.where = f"{self.host}:{intake.imap_port}"
        self.stored = 0
        self.too_large = 0
        self.unstored: list[str] = []

    def problems(self) -> str:
        """What went wrong with single messages while the poll went on."""
        said = []
        if self.too_large:
            said.append(
                f"{self.too_large} message(s) larger than {settings.MAIL_MAX_BYTES} bytes were "
                f"left in the mailbox, unread and flagged {TOO_LARGE}."
            )
        said += self.unstored
        return " ".join(said)

    def run(self) -> None:
        client = self._connect()
        try:
            self._login(client)
            self._select(client)
            self._take(client, self._waiting(client))
        except imaplib.IMAP4.abort as exc:
            raise PollFailed(f"The IMAP server {self.where} dropped the connection: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise PollFailed(f"The connection to {self.where} was lost: {exc}") from exc
        finally:
            _logout(client)

    # --- connect and log in ----------------------------------------------------------------
    def _connect(self) -> imaplib.IMAP4:
        if not self.host:
            raise PollFailed("No IMAP server is set for this address.")
        try:
            context = tls_context()
        except (OSError, ssl.SSLError) as exc:
            raise PollFailed(
                f"TLS failure: the CA file MAIL_IMAP_CA_FILE={settings.MAIL_IMAP_CA_FILE} "
                f"cannot be read ({exc})."
            ) from exc
        timeout = settings.MAIL_IMAP_TIMEOUT_SECONDS
        starttls = self.intake.imap_security == ImapSecurity.STARTTLS
        try:
            address = self._checked_address()
            if starttls:
                return self._starttls(context, timeout, address)
            return _CheckedIMAP4SSL(
                address, self.host, self.intake.imap_port, ssl_context=context, timeout=timeout
            )
        except ssl.SSLCertVerificationError as exc:
            raise PollFailed(
                f"TLS failure: the certificate of {self.where} is not trusted "
                f"({exc.verify_message})."
            ) from exc
        except ssl.SSLError as exc:
            hint = "" if starttls else " Is this the STARTTLS port rather than the TLS one?"
            raise PollFailed(f"TLS failure with {self.where}: {exc.reason or exc}.{hint}") from exc
        except socket.gaierror as exc:
            raise PollFailed(f"Host unreachable: {self.host} cannot be found ({exc}).") from exc
        except ConnectionRefusedError as exc:
            raise PollFailed(
                f"Host unreachable: {self.where} refused the connection (nothing listens there)."
            ) from exc
        except TimeoutError as exc:
            hint = " Is this the TLS port rather than the STARTTLS one?" if starttls else ""
            raise PollFailed(
                f"Host unreachable: {self.where} did not answer within {timeout} seconds.{hint}"
            ) from exc
        except OSError as exc:
            raise PollFailed(f"Host unreachable: {self.where} ({exc}).") from exc
        except imaplib.IMAP4.error as exc:
            raise PollFailed(f"{self.where} does not answer as an IMAP server: {exc}") from exc

    def _checked_address(self) -> str:
        """The address to connect to: the server's name resolved once and checked to be public
        (tenancy/addresses.py), so that a tenant cannot make the desk reach its own network."""
        try:
            return deliverable_addresses(
                self.host,
                self.intake.imap_port,
                what="Mailboxes are polled only at public addresses",
                allow_private=settings.MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES,
            )[0]
        except AddressRefused as exc:
            raise PollFailed(f"Host refused: {exc}") from exc

    def _starttls(self, context: ssl.SSLContext, timeout: int, address: str) -> imaplib.IMAP4:
        client = _CheckedIMAP4(address, self.host, self.intake.imap_port, timeout=timeout)
        try:
            client.starttls(ssl_context=context)
        except imaplib.IMAP4.abort:
            _shutdown(client)
            raise
        except imaplib.IMAP4.error as exc:  # no STARTTLS on offer, or refused
            _shutdown(client)
            raise PollFailed(
                f"TLS failure: {self.where} does not offer STARTTLS ({exc}); the desk never "
                "logs in without TLS."
            ) from exc
        except BaseException:
            _shutdown(client)
            raise
        return client

    def _login(self, client: imaplib.IMAP4) -> None:
        username, password = self.intake.imap_username, self.intake.imap_password
        try:
            if (username + password).isascii():
                client.login(username, password)
            else:  # LOGIN takes ASCII only; SASL PLAIN carries UTF-8
                secret = b"\0" + username.encode() + b"\0" + password.encode()
                client.authenticate("PLAIN", lambda _challenge: secret)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise PollFailed(f"Login refused for {username} at {self.where}: {_said(exc)}") from exc

    def _select(self, client: imaplib.IMAP4) -> None:
        folder = self.intake.imap_folder or "INBOX"
        try:
            typ, data = client.select(_quoted(folder))
        except imaplib.IMAP4.readonly as exc:
            raise PollFailed(
                f'Folder "{folder}" opens read-only, so taken messages cannot be marked.'
            ) from exc
        if typ != "OK":
            raise PollFailed(f'Folder missing: "{folder}" cannot be opened ({_said(data)}).')
        said = client.untagged_responses.get("PERMANENTFLAGS") or [b"\\*"]
        permanent = b" ".join(item for item in said if isinstance(item, bytes))
        if b"\\*" not in permanent and TAKEN.encode() not in permanent:
            raise PollFailed(
                f'Folder "{folder}" does not keep keywords such as {TAKEN}, which mark what '
                "the desk has taken; nothing was taken."
            )

    # --- take ------------------------------------------------------------------------------
    def _waiting(self, client: imaplib.IMAP4) -> list[int]:
        typ, data = client.uid("SEARCH", "UNDELETED", "UNKEYWORD", TAKEN, "UNKEYWORD", TOO_LARGE)
        if typ != "OK":
            raise PollFailed(f"The server refused to search the folder: {_said(data)}")
        uids = sorted(int(n) for n in b" ".join(d for d in data if d).split())
        return uids[: settings.MAIL_IMAP_MAX_PER_POLL]  # the oldest first; the rest next time

    def _take(self, client: imaplib.IMAP4, uids: list[int]) -> None:
        if not uids:
            return
        sizes = self._sizes(client, uids)
        large = [uid for uid in uids if sizes.get(uid, 0) > settings.MAIL_MAX_BYTES]
        if large:
            self._mark(client, large, f"({TOO_LARGE})")
            self.too_large = len(large)
        wanted = [uid for uid in uids if uid in sizes and uid not in large]
        for batch in _batches(wanted, sizes):
            bodies = self._fetch(client, batch)
            taken: list[int] = []
            try:
                for uid in batch:
                    if uid in bodies and self._store(uid, bodies.pop(uid)):
                        taken.append(uid)
            finally:  # what was stored is marked, even if a later store failed
                if taken:
                    self._mark(client, taken, f"(\\Seen {TAKEN})")

    def _store(self, uid: int, raw: bytes) -> bool:
        try:
            created = inbound_store(raw=raw, intake=self.intake, via="imap")[1]
        except DatabaseError:
            raise
        except Exception as exc:  # this message only: left untaken, tried again next poll
            log.exception("IMAP poll of %s: message UID %s not stored", self.intake.address, uid)
            self.unstored.append(f"Message UID {uid} could not be stored ({exc}).")
            return False
        self.stored += created
        return True

    def _sizes(self, client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
        typ, data = client.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)")
        if typ != "OK":
            raise PollFailed(f"The server refused to list message sizes: {_said(data)}")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes  # a message expunged meanwhile is simply absent

    def _fetch(self, client: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
        # PEEK: fetching sets no \Seen; only the mark after the store does.
        typ, data = client.uid("FETCH", _uid_set(uids), "(UID BODY.PEEK[])")
        if typ != "OK":
            raise PollFailed(f"The server refused to hand over messages: {_said(data)}")
        bodies: dict[int, bytes] = {}
        waiting: bytes | None = None  # a body whose UID comes after it
        for item in data:
            if isinstance(item, tuple):
                found = _UID.search(item[0])
                if found:
                    bodies[int(found.group(1))] = item[1]
                else:
                    waiting = item[1]
            elif isinstance(item, bytes) and waiting is not None:
                found = _UID.search(item)
                if found:
                    bodies[int(found.group(1))] = waiting
                    waiting = None
        return bodies

    def _mark(self, client: imaplib.IMAP4, uids: list[int], flags: str) -> None:
        typ, data = client.uid("STORE", _uid_set(uids), "+FLAGS.SILENT", flags)
        if typ != "OK":
            raise PollFailed(
                f"The server refused to flag messages {flags}: {_said(data)}. They were stored "
                "and will be fetched again, and recognised, on the next poll."
            )


def _batches(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    batch: list[int] = []
    weight = 0
    for uid in uids:
        if batch and (len(batch) >= BATCH_MESSAGES or weight + sizes[uid] > BATCH_BYTES):
            yield batch
            batch, weight = [], 0
        batch.append(uid)
        weight += sizes[uid]
    if batch:
        yield batch


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _quoted(folder: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (ASCII), quoted."""
    encoded = utf7_encode(folder).decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{encoded}"'


def _said(what: object) -> str:
    """The server's words from an imaplib answer or error."""
    if isinstance(what, imaplib.IMAP4.error) and what.args:
        what = what.args[0]
    if isinstance(what, list):
        what = b" ".join(w for w in what if isinstance(w, bytes))
    if isinstance(what, bytes):
        what = what.decode("utf-8", "replace")
    return str(what).strip() or "no reason given"


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except Exception:  # the poll's outcome is decided; a failed goodbye changes nothing
        _shutdown(client)


def _shutdown(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        client.shutdown()


class _CheckedIMAP4(imaplib.IMAP4):
    """IMAP to an address already checked, under the server's name (for STARTTLS's check of
    the certificate): resolving the name again could give a private address."""

    def __init__(self, address: str, host: str, port: int, **kwargs: Any) -> None:
        self._address = address
        super().__init__(host, port, **kwargs)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


class _CheckedIMAP4SSL(imaplib.IMAP4_SSL):
    def __init__(self, address: str, host: str, port: int, **kwargs: Any) -> None:
        self._address = address
        super().__init__(host, port, **kwargs)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
