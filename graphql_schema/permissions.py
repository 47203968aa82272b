"""Permission classes, named after their rule; each shows as a directive in the SDL."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from graphql_schema.context import Info
from graphql_schema.varies import Varies
from models import Role


class IsAuthenticated(BasePermission):
    message = "Sign in first: send a valid access token."
    error_extensions = {"code": "UNAUTHENTICATED"}
    varies = Varies.NOT  # whoever receives a result is signed in

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_viewer()  # UNAUTHENTICATED with extensions.reason saying why
        return True


class IsStaff(BasePermission):
    message = "Only the provider's staff may read or do this."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.require_viewer().is_staff


class IsAdmin(BasePermission):
    message = "Only administrators may do this."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Without a valid token the caller must sign in (UNAUTHENTICATED), not lacks a role.
        return info.context.require_viewer().is_admin


class CanSeeBudget(BasePermission):
    """Staff, and the lead contacts of the customer the project belongs to."""

    message = "Only staff and the customer's lead contacts may see budgets."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            return False
        if viewer.is_staff:
            return True
        customer_id = source.row.customer_id
        return viewer.role is Role.CUSTOMER_ADMIN and viewer.customer_id == customer_id


class CanSeeEmail(BasePermission):
    """The user themself, staff, and the lead contacts of the user's own customer."""

    message = "Only staff, the user themself and their customer's lead contacts see emails."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_VIEWER

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            return False
        if viewer.is_staff or viewer.id == source.row.id:
            return True
        return (
            viewer.role is Role.CUSTOMER_ADMIN
            and source.row.customer_id is not None
            and viewer.customer_id == source.row.customer_id
        )


def rule(*permissions: type[BasePermission]) -> list[FieldExtension]:
    """Field extensions that enforce these permission classes (and print them in the SDL)."""
    return [PermissionExtension([p() for p in permissions])]
