"""A real SMTP server on 127.0.0.1 for the mail tests (aiosmtpd, in a thread of its own).

    async def test_…(smtp_server: SmtpServer) -> None:
        settings = replace(settings, smtp_url=smtp_server.url)
        …
        [message] = await smtp_server.wait_for_messages(1)

It keeps every message it accepted (parsed, ``email.message.EmailMessage``), can answer
the next messages with a 4xx or 5xx (:meth:`SmtpServer.refuse_next`), and can hold a
session at ``MAIL FROM`` until the test lets it go (:meth:`SmtpServer.hold_sessions`),
which leaves a sender between its claim and the message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

WAIT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until(
    condition: Callable[[], bool], what: str, within: float = WAIT_SECONDS
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {within} s for {what}")
        await asyncio.sleep(0.01)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(  # aiosmtpd's hook names
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        server = self.server
        with server._lock:
            server.sessions_seen += 1
        if server._hold.is_set():
            with server._lock:
                server.held += 1
            await asyncio.get_running_loop().run_in_executor(None, server._release.wait)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        server = self.server
        with server._lock:
            if server._refusals:
                return server._refusals.pop(0)
            content = envelope.original_content or b""
            parsed = message_from_bytes(content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            server.messages.append(parsed)
            server.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
            server.tls.append(session.ssl is not None)
        return "250 Message accepted"


class SmtpServer:
    """An SMTP server on ``127.0.0.1:<port>``; :attr:`url` is its ``smtp://`` URL."""

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """With ``tls_context``, the server requires STARTTLS; with ``credentials`` (user
        name, password), it requires a login with them (over TLS)."""
        self.port = free_port()
        self.credentials = credentials
        self.logins: list[str] = []
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.tls: list[bool] = []  # per message: whether its session used TLS
        self.sessions_seen = 0
        self.held = 0
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self._hold = threading.Event()
        self._release = threading.Event()
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            ready_timeout=WAIT_SECONDS,
            authenticator=self._authenticate if credentials else None,
            auth_required=credentials is not None,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False)
        given = (data.login.decode(), data.password.decode())
        if given != self.credentials:
            return AuthResult(success=False, handled=False)
        with self._lock:
            self.logins.append(given[0])
        return AuthResult(success=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._release.set()
        self._controller.stop()

    def refuse_next(self, *answers: str) -> None:
        """Answer the next messages' DATA with these replies (``"451 4.3.0 Try later"``,
        ``"550 5.1.1 No such user"``) instead of accepting them."""
        with self._lock:
            self._refusals.extend(answers)

    def hold_sessions(self) -> None:
        """From now on, keep each session waiting at its MAIL FROM until :meth:`release`."""
        self._release.clear()
        self._hold.set()

    def release(self) -> None:
        self._hold.clear()
        self._release.set()

    async def wait_for_messages(self, count: int) -> list[EmailMessage]:
        """The messages received once there are ``count`` (fails after a while)."""
        await wait_until(lambda: len(self.messages) >= count, f"{count} message(s)")
        return list(self.messages)

    async def wait_for_held_session(self) -> None:
        await wait_until(lambda: self.held > 0, "a session held at MAIL FROM")


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """An :class:`SmtpServer` for one test (import this into a test module to use it)."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files in ``directory``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def messages_in_maildir(path: Path) -> list[EmailMessage]:
    """Every message of the Maildir at ``path``, as a mail reader would open it."""
    found: list[EmailMessage] = []
    for folder in ("new", "cur"):
        directory = path / folder
        for file in sorted(directory.iterdir()) if directory.is_dir() else []:
            parsed = message_from_bytes(file.read_bytes(), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
    return found
