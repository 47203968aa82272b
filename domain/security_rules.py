"""The suspicious-activity rules: what each one counts, its threshold, and how it is told.

Five rules, each with its threshold in the settings (README "Suspicious activity"):

- ``NEW_NETWORK_SIGN_IN``: an account without two-factor sign-in signs in from a network
  (an IPv4 /24, an IPv6 /48) it has not signed in from within
  ``security_new_network_days`` (its first sign-in ever is no news);
- ``FAILED_SIGN_INS``: ``security_failed_sign_ins`` failed sign-ins from one client
  address, whatever the accounts, within ``security_failed_sign_ins_window`` seconds;
- ``CROSS_TENANT_PROBING``: a caller answered NOT_FOUND ``security_probes`` times within
  ``security_probes_window`` seconds for IDs that exist beyond their scope;
- ``TOKEN_NEW_ADDRESS``: an access token used from an address it was not used from before
  (its first use is no news);
- ``DOWNLOAD_BURST``: ``security_downloads`` files downloaded by one user within
  ``security_downloads_window`` seconds.

Counting rules count in the store of the sign-in limits (Redis when the deployment has it)
and trigger each time the count reaches a multiple of the threshold; the alert itself is
written by a background job, so a request never waits for it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infra.settings import Settings
from models import SecurityRule

NETWORK_PREFIX_V4 = 24
NETWORK_PREFIX_V6 = 48


@dataclass(frozen=True, slots=True)
class Threshold:
    """``count`` events within ``window`` seconds."""

    count: int
    window: int


def threshold(settings: Settings, rule: SecurityRule) -> Threshold:
    """The threshold of a counting rule. Raises ValueError for a rule that counts nothing."""
    if rule is SecurityRule.FAILED_SIGN_INS:
        return Threshold(
            settings.security_failed_sign_ins, settings.security_failed_sign_ins_window
        )
    if rule is SecurityRule.CROSS_TENANT_PROBING:
        return Threshold(settings.security_probes, settings.security_probes_window)
    if rule is SecurityRule.DOWNLOAD_BURST:
        return Threshold(settings.security_downloads, settings.security_downloads_window)
    raise ValueError(f"{rule} is not a counting rule")


def crossed(before: int, after: int, count: int) -> bool:
    """Whether going from ``before`` to ``after`` events reached a multiple of ``count``
    (one trigger per threshold's worth of events)."""
    return after // count > before // count


def network_of(address: str) -> str:
    """The network an address belongs to for :data:`NEW_NETWORK_SIGN_IN`: an IPv4 address's
    /24, an IPv6 address's /48 (an IPv4-mapped one as IPv4); anything else as it is."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%")[0])
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = NETWORK_PREFIX_V4 if ip.version == 4 else NETWORK_PREFIX_V6
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def counter_key(rule: SecurityRule, subject: str) -> str:
    """The key a counting rule counts ``subject`` under in the store of attempts."""
    return f"security:{rule.value}:{subject}"


SUMMARIES = {
    SecurityRule.NEW_NETWORK_SIGN_IN: "A sign-in from a new network to an account without "
    "two-factor sign-in",
    SecurityRule.FAILED_SIGN_INS: "Many failed sign-ins from one address",
    SecurityRule.CROSS_TENANT_PROBING: "Someone asked for many IDs of other customers",
    SecurityRule.TOKEN_NEW_ADDRESS: "An access token used from a new address",
    SecurityRule.DOWNLOAD_BURST: "Many downloads by one user in a short while",
}
"""One line saying what each rule saw (the alert mail's subject)."""


def summary(rule: SecurityRule) -> str:
    return SUMMARIES[rule]
