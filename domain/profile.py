"""What a person may set about themself: their time zone and locale, checked."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from domain.errors import BadUserInput

_LOCALE = re.compile(r"^([A-Za-z]{2,3})((?:-[A-Za-z0-9]{2,8})*)$")
LOCALE_MAX_LENGTH = 35


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(name: str) -> str:
    """An IANA time zone name as given (``Europe/Zurich``, ``UTC``); BAD_USER_INPUT naming
    ``timeZone`` for anything else (an offset such as ``+02:00``, a path, a typo)."""
    cleaned = name.strip()
    if cleaned not in _time_zones():
        raise BadUserInput(
            f"{cleaned[:64]!r} is not a time zone name: use an IANA name such as "
            "Europe/Zurich or America/New_York.",
            field="timeZone",
        )
    return cleaned


def locale(tag: str) -> str:
    """A BCP 47 language tag in its usual case (``de-CH``, ``en``, ``zh-Hant-TW``);
    BAD_USER_INPUT naming ``locale`` for anything else."""
    cleaned = tag.strip().replace("_", "-")
    match = _LOCALE.match(cleaned)
    if len(cleaned) > LOCALE_MAX_LENGTH or match is None:
        raise BadUserInput(
            f"{cleaned[:LOCALE_MAX_LENGTH]!r} is not a language tag: use one such as en, de-CH "
            "or fr-CA.",
            field="locale",
        )
    parts = [match.group(1).lower()]
    for part in match.group(2).split("-")[1:]:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # a region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script
        else:
            parts.append(part.lower())
    return "-".join(parts)
