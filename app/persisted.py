"""Persisted queries: Apollo's automatic persisted queries (APQ), and a mode that runs only
registered documents.

A request (an HTTP POST, or a websocket ``subscribe``) may carry
``extensions: {persistedQuery: {version: 1, sha256Hash: "<hex>"}}``:

* the hash alone (with no ``query``, or an empty one, as graphql-ws clients must send a
  string): the document with that hash runs if the server knows it; otherwise the answer is
  ``PERSISTED_QUERY_NOT_FOUND`` and the client sends the text with the hash;
* the text and its hash: the hash must be the SHA-256 of the text exactly as sent
  (``BAD_USER_INPUT`` otherwise); a valid document is remembered (an LRU in process memory
  with a size cap, shared through Redis when the deployment uses it) and runs.

Documents a client persisted are found again only by requests of the same tenant (the same
customer's contacts, the provider's staff, or anonymous callers): whether a hash is known
would otherwise tell a contact that somebody sent a document, literals and all.

With ``EXTRANET_PERSISTED_QUERIES=registered`` only registered documents run: those in
``clients/operations/`` (hashed at start-up) and those an administrator registered
(``registerPersistedQuery``, kept in the database). Any other text is refused with
``FORBIDDEN`` and ``reason: PERSISTED_QUERY_NOT_REGISTERED``; a hash the server does not
know answers ``PERSISTED_QUERY_NOT_FOUND``, so that a client sends the text, which is then
checked (and, when registered, its hash is known from then on). A text counts as registered
when it, or its form as graphql-core prints it (what gql and other clients that parse
documents send), has the hash of a registered document, or when it is one with ``__typename``
fields added (without alias, arguments or directives), as Apollo Client's and urql's caches
and Apollo Kotlin do: such a text runs as sent (its results carry ``__typename``). The
operations of ``clients/operations`` are also known by the hash of their form with
``__typename`` added to every selection set below the operation's own (:func:`with_typename`,
as Apollo Client and urql send it, printed by graphql-js or graphql-core), so that their
hash alone runs too.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from extranet_client.operations import operation_document
from graphql import GraphQLSchema, OperationDefinitionNode, parse, print_ast
from tortoise.expressions import Q

from domain import policy
from domain.errors import AppError, BadUserInput, Forbidden
from graphql_schema.persisted.documents import (
    document_errors,
    parsed,
    sha256_hex,
    with_typename,
    without_typename,
)
from infra.lru import LRU
from infra.redis_clients import RedisConnections, bounded, uses_redis
from infra.settings import PROJECT_ROOT, QueryLimits
from models import PersistedDocument, User

log = logging.getLogger(__name__)

OPERATIONS_DIR = PROJECT_ROOT / "clients" / "operations"
_HASH = re.compile(r"[0-9a-fA-F]{64}")
REGISTERED_IN_MEMORY = 1000  # registered documents a process keeps at hand


class PersistedQueryNotFound(AppError):
    """Apollo's answer to a hash the server does not know: send the text with it."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class NotRegistered(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "This server runs only registered operations: send the sha256Hash (or the text) "
            "of a document in clients/operations or of one an administrator registered.",
            reason="PERSISTED_QUERY_NOT_REGISTERED",
        )


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The ``sha256Hash`` of ``extensions.persistedQuery``, lower-case; None without one."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise BadUserInput(
            "extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}.",
            field="persistedQuery",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise BadUserInput(
            "persistedQuery.sha256Hash must be the SHA-256 of the query, in 64 hex digits.",
            field="sha256Hash",
        )
    return digest.lower()


class DocumentCache(Protocol):
    """Where automatically persisted documents are kept, by the SHA-256 of their text."""

    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, text: str) -> None: ...

    async def close(self) -> None: ...


class MemoryDocuments:
    def __init__(self, size: int) -> None:
        self.recent = LRU[str, str](size)

    async def get(self, digest: str) -> str | None:
        return self.recent.get(digest)

    async def put(self, digest: str, text: str) -> None:
        self.recent.put(digest, text)

    async def close(self) -> None:
        pass


# Texts in a hash, their last use in a sorted set; the least recently used beyond the cap go.
_PUT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return excess
"""


class RedisDocuments:
    """Shared by every process through Redis, with at most ``size`` documents there; each
    process keeps the ones it used lately in memory too (a hash names its text for ever, so
    a local copy is never stale). When Redis fails, the process goes on with its own."""

    def __init__(self, redis: RedisConnections | str, namespace: str, size: int) -> None:
        self.size = size
        self.recent = LRU[str, str](size)
        self._connections = RedisConnections.of(redis)  # the process's, or a URL's own
        self._redis = self._connections.client()
        self._texts = f"{namespace}.apq.documents"
        self._used = f"{namespace}.apq.used"
        self._put = self._redis.register_script(_PUT)

    async def get(self, digest: str) -> str | None:
        text = self.recent.get(digest)
        if text is not None:
            return text
        try:
            text = await self._shared(digest)
        except Exception:
            log.exception("Persisted queries: Redis is unavailable")
            return None
        if text is not None:
            self.recent.put(digest, text)
        return text

    @bounded
    async def _shared(self, digest: str) -> str | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._texts, digest)
            pipe.zadd(self._used, {digest: time.time()}, xx=True)
            raw, _ = await pipe.execute()
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put(self, digest: str, text: str) -> None:
        self.recent.put(digest, text)
        try:
            await self._share(digest, text)
        except Exception:
            log.exception("Persisted queries: Redis is unavailable")

    @bounded
    async def _share(self, digest: str, text: str) -> None:
        await self._put(keys=[self._texts, self._used], args=[digest, text, time.time(), self.size])

    async def close(self) -> None:
        await self._redis.aclose()
        await self._connections.release()


def document_cache(
    redis: RedisConnections | str | None, namespace: str, size: int
) -> DocumentCache:
    if uses_redis(redis):
        assert redis is not None
        return RedisDocuments(redis, namespace, size)
    return MemoryDocuments(size)


def operation_documents(directory: Path) -> Iterable[str]:
    """The documents of the clients' operations (the ``*.graphql`` files that define an
    operation, each with the fragments it spreads, as clients send them:
    :func:`extranet_client.operations.operation_document`)."""
    if not directory.is_dir():
        log.warning("Persisted queries: %s does not exist; no operations registered", directory)
        return []
    return [
        operation_document(path)
        for path in sorted(directory.glob("*.graphql"))
        if any(isinstance(d, OperationDefinitionNode) for d in parse(path.read_text()).definitions)
    ]


class PersistedQueries:
    """Turns a request's query and extensions into the text to run, or refuses it."""

    def __init__(
        self,
        mode: str,
        cache: DocumentCache,
        schema: GraphQLSchema,
        limits: QueryLimits,
        operations: Iterable[str] = (),
    ) -> None:
        self.registered_only = mode == "registered"
        self.cache = cache
        self.schema = schema
        self.limits = limits
        self.known: dict[str, str] = {}  # hash → text of the clients' operations
        self.known_forms: set[str] = set()  # hashes of their texts without `__typename`
        for text in operations:
            document = parsed(text, limits)
            variants = [text, text.strip()]
            if document is not None:
                variants += [print_ast(document), with_typename(document)]
                self.known_forms.add(sha256_hex(without_typename(document)))
            for variant in variants:
                self.known[sha256_hex(variant)] = variant
        # Registered documents found in the database, also under the hash of the text a
        # client sent for them (another layout of the same document).
        self.registered = LRU[str, str](REGISTERED_IN_MEMORY)

    async def resolve(
        self, query: str | None, extensions: Mapping[str, Any] | None, viewer: User | None
    ) -> str | None:
        """The document to run for ``query`` and ``extensions`` sent by ``viewer``; raises
        an :class:`AppError` when there is none or it may not run."""
        if query is not None and not isinstance(query, str):  # JSON may carry anything
            raise BadUserInput("The query must be a string.", field="query")
        if extensions is not None and not isinstance(extensions, Mapping):
            raise BadUserInput("The extensions must be an object.", field="extensions")
        digest = requested_hash(extensions)
        scope = policy.tenant(viewer)
        if digest is None:
            if query is not None and self.registered_only:
                await self._require_registered(query)
            return query
        if not query:  # no text, or the empty string graphql-ws clients must send
            text = await self._lookup(digest, scope)
            if text is None:
                raise PersistedQueryNotFound()
            return text
        if sha256_hex(query) != digest:
            raise BadUserInput(
                "persistedQuery.sha256Hash is not the SHA-256 of the query: hash the exact "
                "text you send (UTF-8), in hex.",
                field="sha256Hash",
            )
        if self.registered_only:
            await self._require_registered(query)
        elif digest not in self.known:
            await self._remember(f"{scope}:{digest}", query)
        return query

    async def _remember(self, key: str, text: str) -> None:
        """Keep a document that can run (so junk cannot crowd out the others)."""
        if await self.cache.get(key) is None and not document_errors(
            self.schema, text, self.limits
        ):
            await self.cache.put(key, text)

    async def _lookup(self, digest: str, scope: str) -> str | None:
        text = self.known.get(digest) or self.registered.get(digest)
        if text is None and not self.registered_only:
            text = await self.cache.get(f"{scope}:{digest}")
        if text is None:
            row = await PersistedDocument.filter(
                Q(sha256=digest) | Q(normalized_sha256=digest)
            ).first()
            if row is not None:
                text = row.query
                self.registered.put(digest, text)
        return text

    async def _require_registered(self, text: str) -> None:
        digest = sha256_hex(text)
        if digest in self.known or self.registered.get(digest) is not None:
            return
        document = parsed(text, self.limits)
        if document is None:
            raise NotRegistered()
        form, bare = print_ast(document), without_typename(document)
        if sha256_hex(form) not in self.known and sha256_hex(bare) not in self.known_forms:
            match = Q(sha256=digest) | Q(normalized_sha256__in=[sha256_hex(form), sha256_hex(bare)])
            if not await PersistedDocument.filter(match).exists():
                raise NotRegistered()
        self.registered.put(digest, text)  # its hash alone runs from now on

    async def close(self) -> None:
        await self.cache.close()
