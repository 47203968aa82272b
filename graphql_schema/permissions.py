"""Permission classes, one per rule of :mod:`domain.policy`; each shows as a directive in
the SDL, described there, so that ``schema.graphql`` says who may do what.

A class is named after its policy predicate (``CanManageProject`` prints
``@canManageProject`` and stands for :func:`domain.policy.can_manage_project`), which is
its ``predicate``. Rules of the viewer alone (:class:`IsAdmin`, :class:`IsStaff`) and rules
of the object a field is on (:class:`CanSeeBudget`, :class:`CanSeeEmail`) are decided here.
A rule about the object a mutation or query names (:class:`ObjectRule`) needs that row:
the field asks for a signed-in caller, and the action or resolver that loads the row
refuses with the same predicate, answering NOT_FOUND for a row out of the caller's sight
(exactly as for an ID that does not exist) and FORBIDDEN for one they see but may not
change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location, StrawberrySchemaDirective

from domain import policy
from graphql_schema.context import Info
from graphql_schema.varies import Varies
from models import Customer


class Rule(BasePermission):
    """A permission class whose directive carries the class's docstring as its
    description in the SDL."""

    predicate: ClassVar[Callable[..., Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)

        class Directive:
            __strawberry_directive__ = StrawberrySchemaDirective(
                cls.__name__,
                cls.__name__,
                [Location.FIELD_DEFINITION],
                [],
                description=" ".join((cls.__doc__ or "").split()) or None,
            )

        Directive.__name__ = cls.__name__
        Directive.__qualname__ = cls.__qualname__
        Directive.__module__ = cls.__module__
        cls._schema_directive = Directive()


class IsAuthenticated(Rule):
    """Any signed-in user (UNAUTHENTICATED without a valid access token)."""

    message = "Sign in first: send a valid access token."
    error_extensions = {"code": "UNAUTHENTICATED"}
    varies = Varies.NOT  # whoever receives a result is signed in

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_viewer()  # UNAUTHENTICATED with extensions.reason saying why
        return True


class IsStaff(Rule):
    """The provider's staff (administrators included); others FORBIDDEN."""

    message = "Only the provider's staff may read or do this."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE
    predicate = policy.is_staff

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return policy.is_staff(info.context.require_viewer())


class IsAdmin(Rule):
    """Administrators; others FORBIDDEN."""

    message = "Only administrators may do this."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE
    predicate = policy.is_admin

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Without a valid token the caller must sign in (UNAUTHENTICATED), not lacks a role.
        return policy.is_admin(info.context.require_viewer())


class CanSeeBudget(Rule):
    """Staff, and the lead contacts of the customer (or of the customer the project or
    document belongs to); others read null with FORBIDDEN."""

    message = "Only staff and the customer's lead contacts may see budgets."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_AUDIENCE
    predicate = policy.can_see_budget

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        row = source.row
        customer_id = row.id if isinstance(row, Customer) else row.customer_id
        return viewer is not None and policy.can_see_budget(viewer, customer_id)


class CanSeeEmail(Rule):
    """The user themself, staff, and the lead contacts of the user's customer; others read
    null with FORBIDDEN."""

    message = "Only staff, the user themself and their customer's lead contacts see emails."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_VIEWER
    predicate = policy.can_see_email

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is not None and policy.can_see_email(viewer, source.row)


class ObjectRule(Rule):
    """A rule decided on the row that the field's arguments name: a signed-in caller
    passes the field (UNAUTHENTICATED otherwise), and the action or resolver that loads the
    row applies ``predicate`` to it (NOT_FOUND out of sight, FORBIDDEN when refused). The
    value, once given, is the object's: it does not vary by reader."""

    message = IsAuthenticated.message
    error_extensions = IsAuthenticated.error_extensions
    varies = Varies.NOT

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_viewer()
        return True


class IsAccountTeamMember(ObjectRule):
    """Administrators, and staff on the account team of the customer concerned."""

    predicate = policy.is_account_team_member


class CanManageContacts(ObjectRule):
    """The customer's account team (and administrators) and its lead contacts."""

    predicate = policy.can_manage_contacts


class CanManageProject(ObjectRule):
    """Administrators, and staff on the account team of the project's customer or members
    of the project."""

    predicate = policy.can_manage_project


class CanManageProjectMembers(ObjectRule):
    """Those who manage the project, and the lead contacts of its customer; staff members
    are added and removed by staff only."""

    predicate = policy.can_manage_project_members


class CanContribute(ObjectRule):
    """Staff who manage the project, the lead contacts of its customer and its members;
    INTERNAL content by staff only."""

    predicate = policy.can_contribute


class CanEditPage(ObjectRule):
    """Whoever may contribute to the page's project."""

    predicate = policy.can_edit_page


class IsAuthor(ObjectRule):
    """The author of the post."""

    predicate = policy.is_author


class CanDeleteAttachment(ObjectRule):
    """Whoever uploaded the file, and staff who may write on its page."""

    predicate = policy.can_delete_attachment


class CanSee(ObjectRule):
    """Objects you may see (your own watches and notifications); anything else is
    NOT_FOUND, as an ID that does not exist."""

    predicate = policy.can_see


class CanSync(ObjectRule):
    """Administrators and service accounts, within the rule of the plain mutation (creating
    a customer: administrators; a project: the account team; a contact: those who may
    invite the customer's contacts)."""

    predicate = policy.can_sync


class CanManageWebhooks(ObjectRule):
    """Administrators, and a customer's lead contacts for their own customer's endpoints
    (another's answer NOT_FOUND); an endpoint receives only what its owner may read."""

    predicate = policy.can_manage_webhooks


class CanSeeCustomer(ObjectRule):
    """Staff see every customer; a contact their own; anything else is NOT_FOUND."""

    predicate = policy.can_see_customer


class CanSeeProject(ObjectRule):
    """Staff see every project; a lead contact their customer's; a contact those they are a
    member of; anything else is NOT_FOUND."""

    predicate = policy.can_see_project


class CanSeePage(ObjectRule):
    """Staff see every page; contacts the SHARED pages of projects they may see; anything
    else is NOT_FOUND."""

    predicate = policy.can_see_page


class CanSeeTopic(ObjectRule):
    """Staff see every topic; a contact those used in posts they may see; anything else is
    NOT_FOUND."""

    predicate = policy.can_see_topic


class CanSeeRequest(ObjectRule):
    """Staff see every request; a lead contact their customer's; a contact those of their
    customer they requested or participate in; anything else is NOT_FOUND."""

    predicate = policy.can_see_request


class CanSubmitRequest(ObjectRule):
    """The customer's contacts, and its account team on a contact's behalf, with a request
    type offered to the customer."""

    predicate = policy.can_submit_request


class CanReplyToRequest(ObjectRule):
    """Staff who handle the request, and the contacts who see it; INTERNAL notes by staff
    only."""

    predicate = policy.can_reply_to_request


class CanHandleRequest(ObjectRule):
    """Administrators, the request's assignee and staff on its customer's account team."""

    predicate = policy.can_handle_request


class CanAddRequestParticipant(ObjectRule):
    """The request's requester, its customer's lead contacts and staff who handle it."""

    predicate = policy.can_add_request_participant


class CanChangeRequestStatus(ObjectRule):
    """Whoever the request type's lifecycle names for the transition: STAFF (who handle it),
    REQUESTER, LEAD_CONTACT; another transition is BAD_USER_INPUT naming the allowed ones."""

    predicate = policy.can_change_request_status


class CanReopenRequest(ObjectRule):
    """The request's requester, within its type's reopening days after its resolution."""

    predicate = policy.can_reopen_request


class CanSeeBusinessDocument(ObjectRule):
    """Staff see every business document; a lead contact their customer's; a contact those
    of projects they are a member of; anything else is NOT_FOUND. Amounts: as budgets."""

    predicate = policy.can_see_business_document


class CanManageBusinessDocuments(ObjectRule):
    """The customer's account team and administrators (service accounts of the provider
    included, with `upsertBusinessDocument`)."""

    predicate = policy.can_manage_business_documents


class CanSeeKpis(ObjectRule):
    """Staff, for any customer and for all customers together; a customer's lead contacts
    for their own customer (another customer's ID answers NOT_FOUND); others FORBIDDEN."""

    predicate = policy.can_see_kpis


class CanDecideQuote(ObjectRule):
    """The customer's lead contacts and its account team; only a SENT quote whose due date
    has not passed (BAD_USER_INPUT otherwise)."""

    predicate = policy.can_decide_quote


def rule(*permissions: type[BasePermission]) -> list[FieldExtension]:
    """Field extensions that enforce these permission classes (and print them in the SDL)."""
    return [PermissionExtension([p() for p in permissions])]


class CanSeeLibraryDocument(ObjectRule):
    """Staff see every library document; a contact those of the shared library offered to
    their customer and their customer's own (a member: in folders its lead contacts opened
    to members), never a DRAFT; anything else is NOT_FOUND."""

    predicate = policy.can_see_library_document


class CanManageLibrary(ObjectRule):
    """Staff on an account team for the shared library, a customer's account team for its
    library; administrators."""

    predicate = policy.can_manage_library


class CanOpenFolder(ObjectRule):
    """The customer's lead contacts and its account team."""

    predicate = policy.can_open_folder


class CanAcknowledgeDocument(ObjectRule):
    """A contact who may see the document (BAD_USER_INPUT unless it is VALID and asks for
    acknowledgement)."""

    predicate = policy.can_acknowledge_document


class CanDeleteDocumentVersion(ObjectRule):
    """Administrators alone; audited."""

    predicate = policy.can_delete_document_version
