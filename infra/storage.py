"""Where attachment contents live: a content-addressed blob store behind a small
interface (an object store can implement it). The default keeps files in a directory
outside anything the server serves, named by the SHA-256 of their content, so the same
file uploaded twice is stored once and a name given by a client never reaches the disk."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SNIFF_BYTES = 8192
CHUNK = 64 * 1024


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str  # the SHA-256 of the content, in hex
    size: int
    head: bytes  # the first bytes, to tell the content type from
    spare: str = ""  # where the storage keeps a second copy until `keep` or `discard`


Check = Callable[[], Awaitable[bool]]


class BlobStorage(Protocol):
    """Contents by key. Uploads and deletions of the same content may race: ``put`` keeps
    a spare until the caller has recorded the blob (``keep``) or given it up (``discard``),
    and ``forget`` asks whether the content is still used after setting it aside, so that
    neither loses a file the other still needs."""

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        """Store the content, refusing it with TooLarge past ``max_bytes``."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The content, in chunks."""
        ...

    async def keep(self, blob: StoredBlob) -> None:
        """The blob is recorded: put its content back if a ``forget`` took it meanwhile,
        and drop the spare."""
        ...

    async def discard(self, blob: StoredBlob, still_used: Check) -> None:
        """The blob was not recorded: drop the spare, and the content unless used."""
        ...

    async def forget(self, key: str, still_used: Check) -> None:
        """Remove content unless ``still_used()`` (asked once before and once after the
        content is set aside) says that something refers to it."""
        ...


class DirectoryStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a content key")
        return self.root / key[:2] / key[2:4] / key

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    await asyncio.to_thread(file.write, chunk)
            key = digest.hexdigest()
            await self._link(Path(temporary), key)  # the temporary file stays as the spare
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return StoredBlob(key=key, size=size, head=head, spare=temporary)

    async def _link(self, source: Path, key: str) -> None:
        """Give ``source`` the content's name, unless the content is there already."""
        final = self._path(key)
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            await asyncio.to_thread(os.link, source, final)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        with self._path(key).open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, CHUNK):
                yield chunk

    async def keep(self, blob: StoredBlob) -> None:
        if blob.spare:
            await self._link(Path(blob.spare), blob.key)
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(os.unlink, blob.spare)

    async def discard(self, blob: StoredBlob, still_used: Check) -> None:
        if blob.spare:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(os.unlink, blob.spare)
        await self.forget(blob.key, still_used)

    async def forget(self, key: str, still_used: Check) -> None:
        if await still_used():
            return
        aside = self.root / f".forget-{key}-{secrets.token_hex(4)}"
        try:
            await asyncio.to_thread(os.rename, self._path(key), aside)
        except FileNotFoundError:
            return
        try:
            if await still_used():  # recorded meanwhile: the content goes back
                await self._link(aside, key)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(os.unlink, aside)
