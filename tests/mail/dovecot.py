"""A real Dovecot for the IMAP polling tests, in a throwaway configuration.

`running_dovecot()` writes a dovecot.conf into a fresh temporary folder: IMAP with STARTTLS and
IMAPS on free loopback ports, a certificate for 127.0.0.1 and localhost signed by a throwaway
CA (made with openssl; tests trust it through MAIL_IMAP_CA_FILE), users in a passwd-file with
plain passwords, maildirs under the folder. It runs `dovecot -F -c <conf>` in the foreground and
stops it at the end. Run as an ordinary user it needs no privileges; run as root (CI), Dovecot
refuses to serve mail or logins as root, so they run as its own system users (`dovecot`,
`dovenull`).

`Mailbox` is one user's mailbox, spoken to over IMAP as a person or a sending server would:
APPEND to deliver, FETCH FLAGS to look, STORE to read or unflag.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools.imap_utf7 import utf7_encode

INSTALL_HINT = "apt-get install dovecot-imapd (.ci/run installs it)"
# Users are written before Dovecot starts: it reads its passwd-file at most once a second, so
# a user added during the run could be refused for a moment.
USERS = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


def _missing(what: str) -> None:
    """Skip on a developer's machine without it; in CI a missing server is a failure."""
    reason = f"{what} is not installed: {INSTALL_HINT}"
    if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Dovecot:
    root: Path
    host: str
    imaps_port: int
    imap_port: int
    ca_file: str
    mail_uid: int
    mail_gid: int
    users: Iterator[int] = field(default_factory=lambda: iter(range(1, USERS + 1)))

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self) -> Mailbox:
        """A fresh, empty mailbox (its maildir appears at the first login)."""
        n = next(self.users)
        return Mailbox(self, f"desk{n}", _password(n))

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


@dataclass
class Mailbox:
    server: Dovecot
    user: str
    password: str

    @contextmanager
    def session(self, folder: str = "INBOX") -> Iterator[imaplib.IMAP4_SSL]:
        client = imaplib.IMAP4_SSL(
            self.server.host, self.server.imaps_port, ssl_context=self.server.context(), timeout=10
        )
        try:
            client.login(self.user, self.password)
            typ, data = client.select(_quoted(folder))
            assert typ == "OK", data
            yield client
        finally:
            client.logout()

    def create_folder(self, folder: str) -> None:
        with self.session() as client:
            typ, data = client.create(_quoted(folder))
            assert typ == "OK", data

    def deliver(
        self, *messages: EmailMessage | bytes, flags: str = "", folder: str = "INBOX"
    ) -> None:
        """APPEND, as the mail server delivering to this mailbox would."""
        with self.session(folder) as client:
            for message in messages:
                raw = message if isinstance(message, bytes) else message.as_bytes()
                typ, data = client.append(
                    _quoted(folder), f"({flags})" if flags else None, None, raw
                )
                assert typ == "OK", data

    def flags(self, folder: str = "INBOX") -> dict[str, set[str]]:
        """Each message's flags, by its Message-ID."""
        with self.session(folder) as client:
            typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            assert typ == "OK", data
        found: dict[str, set[str]] = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta, header = item
            flags = imaplib.ParseFlags(meta) or ()
            message_id = header.decode().partition(":")[2].strip()
            found[message_id] = {f.decode() for f in flags} - {"\\Recent"}
        return found

    def store(self, message_id: str, change: str, flags: str) -> None:
        """STORE on the message with this Message-ID: a person reading it (+FLAGS (\\Seen)),
        or the server forgetting our mark (-FLAGS ($DeskTaken))."""
        with self.session() as client:
            typ, data = client.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
            uids = data[0].split() if typ == "OK" and data[0] else []
            assert len(uids) == 1, (message_id, data)
            typ, data = client.uid("STORE", uids[0], change, f"({flags})")
            assert typ == "OK", data


def _password(n: int) -> str:
    return f"mailbox-password-{n}"


def _quoted(folder: str) -> str:
    return '"' + utf7_encode(folder).decode("ascii") + '"'


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(root: Path) -> None:
    """A throwaway CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=Throwaway test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=root,
    )  # fmt: skip
    _openssl(
        "req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=root,
    )  # fmt: skip
    (root / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
        cwd=root,
    )  # fmt: skip


def _users_for_dovecot() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        group = _group_name(me.pw_gid)
        return me.pw_name, group, me.pw_name, me.pw_uid, me.pw_gid
    # Dovecot refuses to run logins or mail access as root.
    try:
        internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
    except KeyError:
        internal = login = pwd.getpwnam("nobody")
    return (
        internal.pw_name,
        _group_name(internal.pw_gid),
        login.pw_name,
        internal.pw_uid,
        internal.pw_gid,
    )


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


def _config(root: Path, imap_port: int, imaps_port: int) -> tuple[str, int, int]:
    internal, group, login, uid, gid = _users_for_dovecot()
    unprivileged = os.geteuid() != 0
    # Without root, Dovecot cannot chroot its login and anvil processes.
    no_chroot = "  chroot =\n" if unprivileged else ""
    conf = f"""# Written by tests/mail/dovecot.py for one test run.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/server.crt
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
{no_chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
# No growing delay for this address after a refused login (the wrong-password tests).
service anvil {{
{no_chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
    (root / "dovecot.conf").write_text(conf)
    return str(root / "dovecot.conf"), uid, gid


def _wait_until_listening(process: subprocess.Popen, ports: list[int], root: Path) -> None:
    deadline = time.monotonic() + 20
    waiting = list(ports)
    while waiting:
        if process.poll() is not None:
            said = [(root / f).read_text(errors="replace") for f in ("dovecot.out", "dovecot.log")
                    if (root / f).exists()]  # fmt: skip
            raise RuntimeError(f"dovecot exited with {process.returncode}:\n" + "\n".join(said))
        try:
            with socket.create_connection(("127.0.0.1", waiting[0]), timeout=1):
                waiting.pop(0)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot does not listen on {waiting} after 20 s") from None
            time.sleep(0.1)


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        _missing("Dovecot")
    if shutil.which("openssl") is None:
        _missing("openssl")
    assert binary is not None
    root = Path(tempfile.mkdtemp(prefix="desk-dovecot-"))
    root.chmod(0o755)  # as root, Dovecot's own users read the mail under it
    process: subprocess.Popen | None = None
    try:
        for folder in ("run", "state", "home"):
            (root / folder).mkdir()
        (root / "passwd").write_text(
            "".join(f"desk{n}:{{PLAIN}}{_password(n)}::::::\n" for n in range(1, USERS + 1))
        )
        _certificates(root)
        imap_port, imaps_port = free_port(), free_port()
        conf, uid, gid = _config(root, imap_port, imaps_port)
        os.chown(root / "home", uid, gid)  # each user's home is made at their first login
        with (root / "dovecot.out").open("w") as out:
            process = subprocess.Popen(
                [binary, "-F", "-c", conf], stdout=out, stderr=subprocess.STDOUT
            )
        _wait_until_listening(process, [imaps_port, imap_port], root)
        yield Dovecot(root, "127.0.0.1", imaps_port, imap_port, str(root / "ca.crt"), uid, gid)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the master stops its children with it
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
