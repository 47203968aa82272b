"""Enums shared by several domains, exposed under their model names."""

from __future__ import annotations

import strawberry

from models import ProjectStatus as _ProjectStatus
from models import Role as _Role
from models import Visibility as _Visibility
from models import WatchLevel as _WatchLevel

Role = strawberry.enum(_Role, description="What a user may see and do.")
Visibility = strawberry.enum(
    _Visibility, description="SHARED: staff and the customer's permitted contacts. INTERNAL: staff."
)
ProjectStatus = strawberry.enum(
    _ProjectStatus,
    description="PROPOSED → ACTIVE ⇄ ON_HOLD → COMPLETED; CANCELLED from any open state.",
)
WatchLevel = strawberry.enum(
    _WatchLevel,
    description=(
        "WATCHING: everything. PARTICIPATING: only where you are mentioned, authored or were "
        "replied to. MUTED: nothing, overriding a watch inherited from a customer or project."
    ),
)
