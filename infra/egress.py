"""HTTP requests to addresses that users chose (webhook endpoints), kept off internal networks.

A URL's host is resolved once (:func:`resolve`); an address that is not public (private,
loopback, link-local, CGNAT ``100.64.0.0/10``, multicast, unspecified, reserved, and IPv6
forms that embed such an IPv4 address: IPv4-mapped, 6to4, Teredo) is refused
(:func:`refusal`) unless it lies in one of the allowed networks
(``EXTRANET_WEBHOOK_ALLOW_NETWORKS``). The request then goes to the checked address itself
(the URL's host name stays in the ``Host`` header and, for https, in the TLS server name and
the certificate check), so a second lookup cannot lead elsewhere; redirects are never
followed, and proxies from the environment are not used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class EgressRefused(Exception):
    """The URL may not be requested: its message says why (shown to the endpoint's owner)."""


def networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The allowed networks from their CIDR texts (ValueError for one that is not)."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def refusal(address: str | IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be connected to, or None when it may: it is public, or lies
    in one of ``allowed``."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"{ip} is an IPv4-mapped IPv6 address"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = refusal(embedded, allowed)
            if inner is not None:
                return f"{ip} embeds an address that is refused: {inner}"
    if ip.version == 4 and ip in _CGNAT:
        return f"{ip} is in the shared address space (100.64.0.0/10)"
    for test, what in (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not a public address"),
    ):
        if test:
            return f"{ip} is {what}"
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL checked for a request: where to connect (``address``) and what to ask for."""

    url: str
    host: str
    port: int
    scheme: str
    address: str

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((parts.scheme, f"{host}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of an ``http``/``https`` URL; EgressRefused otherwise
    (another scheme, no host, a user name or password in it, a fragment)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise EgressRefused(f"The URL is not valid: {error}.") from None
    if parts.scheme not in ("http", "https"):
        raise EgressRefused("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise EgressRefused("The URL names no host.")
    if parts.username is not None or parts.password is not None:
        raise EgressRefused("The URL must not contain a user name or password.")
    if parts.fragment:
        raise EgressRefused("The URL must not contain a fragment (#...).")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(url: str, allowed: Sequence[IPNetwork] = ()) -> Target:
    """Resolve the URL's host once and pick its first address that may be connected to.
    Raises EgressRefused for a URL that is not http(s), a host that does not resolve, or
    one whose addresses are all refused (:func:`refusal`)."""
    scheme, host, port = check_url(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as error:
        raise EgressRefused(f"The host {host} could not be resolved: {error}.") from None
    reasons: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        reason = refusal(address, allowed)
        if reason is None:
            return Target(url=url, host=host, port=port, scheme=scheme, address=address)
        reasons.append(reason)
    raise EgressRefused(
        f"The host {host} resolves to no public address ({'; '.join(reasons) or 'none'}); "
        "deliveries never go to internal networks."
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: the status code, the first ``body_limit`` bytes of the body as text,
    and how long it took (ms)."""

    status: int
    body: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer (a redirect is not one: it is never followed)."""
        return 200 <= self.status < 300


async def post(
    target: Target,
    content: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,  # noqa: ASYNC109 (one budget for the whole exchange)
    body_limit: int = 1024,
) -> Answer:
    """POST ``content`` to the checked ``target`` (its address; Host header and TLS name
    are the URL's host), without following redirects, within ``timeout`` seconds in all.
    Raises httpx.HTTPError (or TimeoutError) when no answer came."""
    started = time.monotonic()
    request_headers = {**headers, "Host": target.host_header}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, timeout=httpx.Timeout(timeout)
    ) as client:
        async with asyncio.timeout(timeout):
            request = client.build_request(
                "POST",
                target.connect_url,
                content=content,
                headers=request_headers,
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
            try:
                kept = bytearray()
                async for chunk in response.aiter_bytes():
                    kept.extend(chunk)
                    if len(kept) >= body_limit:
                        break
            finally:
                await response.aclose()
    return Answer(
        status=response.status_code,
        body=bytes(kept[:body_limit]).decode("utf-8", "replace"),
        duration_ms=int((time.monotonic() - started) * 1000),
    )
