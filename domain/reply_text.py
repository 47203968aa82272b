"""What someone wrote in a reply by mail, without what their mail client added: the quoted
message ("On … wrote:" and the ``>`` lines after it), an Outlook-style header block of the
original ("From: … Sent: …", "-----Original Message-----"), and the signature (from a
``-- `` line, or a "Sent from my …" line)."""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*(On\b.+\bwrote:|Le\b.+\ba écrit\s?:|Am\b.+\bschrieb\b.*:|El\b.+\bescribió:)\s*$",
    re.IGNORECASE,
)
# "On Tue, 1 Dec 2026 at 10:02, Anna <anna@…>" and "wrote:" on the next line
_ATTRIBUTION_START = re.compile(r"^\s*On\b.+[,\d].*$", re.IGNORECASE)
_WROTE = re.compile(r"^.*\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK = re.compile(r"^\s*\*?(From|De|Von)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Envoyé|Gesendet)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE = re.compile(r"^\s*(Sent from my\b|Get Outlook for\b|Envoyé de mon\b)", re.IGNORECASE)


def _cut(lines: list[str]) -> int:
    """The index of the first line of what the client added (len(lines) when none)."""
    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if _ATTRIBUTION.match(line) or _ORIGINAL.match(line) or _SIGNATURE.match(line):
            return n
        if _ATTRIBUTION_START.match(line) and _WROTE.match(following):
            return n
        if _MOBILE.match(line):
            return n
        if _HEADER_BLOCK.match(line) and any(
            _HEADER_FOLLOW.match(later) for later in lines[n + 1 : n + 4]
        ):
            return n
    return len(lines)


def reply_text(body: str) -> str:
    """The new text of a reply's plain-text ``body``: everything before the first quoted
    or added part, without ``>`` lines anywhere, trimmed. May be empty."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = lines[: _cut(lines)]
    kept = [line.rstrip() for line in kept if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()
