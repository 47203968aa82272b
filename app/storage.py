"""Where attachment contents live: a content-addressed blob store behind a small
interface (an object store can implement it). The default keeps files in a directory
outside anything the server serves, named by the SHA-256 of their content, so the same
file uploaded twice is stored once and a name given by a client never reaches the disk."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
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


class BlobStorage(Protocol):
    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        """Store the content, refusing it with TooLarge past ``max_bytes``."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The content, in chunks."""
        ...

    async def forget(self, key: str) -> None:
        """Remove content that nothing refers to (the caller checks that)."""
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
            final = self._path(key)
            await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, temporary, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return StoredBlob(key=key, size=size, head=head)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        with self._path(key).open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, CHUNK):
                yield chunk

    async def forget(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self._path(key))
