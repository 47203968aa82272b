"""The per-user file that keeps each server's session.

``$XDG_CONFIG_HOME/extranet/client.json`` (``~/.config/...`` by default), readable by the
user alone (0600, in a 0700 directory). Refresh tokens rotate on every use and replaying a
spent one ends the whole session, so the clients of one user (a ``follow`` in one terminal,
a ``post`` in another) refresh under a file lock and take a pair another one just saved.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REFRESH_MARGIN = 10.0  # seconds before expiry at which an access token is renewed


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "extranet" / "client.json"


@dataclass(frozen=True, slots=True)
class Tokens:
    email: str
    access_token: str
    access_token_expires_at: float
    refresh_token: str

    def fresh(self, now: float | None = None) -> bool:
        """Whether the access token is good for a while yet."""
        return (now or time.time()) < self.access_token_expires_at - REFRESH_MARGIN

    @classmethod
    def from_session(cls, email: str, session: dict[str, Any]) -> Tokens:
        """From a ``SessionPayload`` (login, completeLogin, refreshSession)."""
        return cls(
            email=email,
            access_token=session["accessToken"],
            access_token_expires_at=time.time() + float(session["accessTokenExpiresIn"]),
            refresh_token=session["refreshToken"],
        )


class TokenStore:
    """The sessions kept in the config file, one per server URL."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_path()

    def load(self, server: str) -> Tokens | None:
        saved = self._read().get("servers", {}).get(server)
        if not isinstance(saved, dict):
            return None
        try:
            return Tokens(**saved)
        except TypeError:
            return None

    def save(self, server: str, tokens: Tokens) -> None:
        data = self._read()
        data.setdefault("servers", {})[server] = asdict(tokens)
        self._write(data)

    def forget(self, server: str) -> None:
        data = self._read()
        if data.get("servers", {}).pop(server, None) is not None:
            self._write(data)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file's lock (other clients of the user wait for it)."""
        self._make_directory()
        lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        self._make_directory()
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(data, file, indent=2)
        os.chmod(temporary, 0o600)  # also when it existed with other permissions
        os.replace(temporary, self.path)

    def _make_directory(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
