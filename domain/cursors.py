"""Opaque cursors: a kind and a number, base64-encoded so clients treat them as tokens."""

from __future__ import annotations

import base64
import binascii


def encode(kind: str, number: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{number}".encode()).decode()


def decode(kind: str, cursor: str, *, lowest: int, highest: int) -> int | None:
    """The number in a cursor of this kind within [lowest, highest], otherwise None."""
    try:
        prefix, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        number = int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return number if prefix == kind and lowest <= number <= highest else None
