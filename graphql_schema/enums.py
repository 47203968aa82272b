"""The model enums, registered with the GraphQL schema under their own names."""

from __future__ import annotations

import strawberry

from models import ProjectStatus, Role, Visibility, WatchLevel

strawberry.enum(Role, description="What a user may see and do.")
strawberry.enum(
    Visibility,
    description="SHARED: staff and the customer's permitted contacts. INTERNAL: staff only.",
)
strawberry.enum(
    ProjectStatus,
    description="PROPOSED → ACTIVE ⇄ ON_HOLD → COMPLETED; CANCELLED from any open state.",
)
strawberry.enum(
    WatchLevel,
    description=(
        "WATCHING: everything. PARTICIPATING: only where you are mentioned, authored or were "
        "replied to. MUTED: nothing, overriding a watch inherited from a customer or project."
    ),
)

__all__ = ["ProjectStatus", "Role", "Visibility", "WatchLevel"]
