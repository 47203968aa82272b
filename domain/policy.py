"""Who may see and who may change what: the tenant boundary as scopes and named predicates.

Every rule is written once, here. Reads are scoped by querysets (``visible_*``), so that an
object outside the viewer's reach is simply not found (answering exactly like an ID that
does not exist). Writes are checked by the predicates below, which the actions call on the
rows they load; a permission class of :mod:`graphql_schema.permissions` is named after the
predicate it stands for (``CanManageProject`` prints ``@canManageProject`` in the SDL and
is :func:`can_manage_project`). Administrators pass every rule
but :func:`is_author` (a post is edited by its author alone).

Roles (no database read):

* :func:`is_admin` (user): an administrator.
* :func:`is_staff` (user): the provider's staff, administrators included.
* :func:`is_lead_contact` (user, customer_id): a ``CUSTOMER_ADMIN`` of this customer.
* :func:`is_contact_of` (user, customer_id): a contact (either customer role) of it.
* :func:`can_see_visibility` (user, visibility): ``INTERNAL`` content is staff's alone,
  to read and to write.
* :func:`can_see_budget` (user, customer_id): staff, and the customer's lead contacts.
* :func:`can_see_email` (viewer, user): the user themself, staff, and the lead contacts
  of the user's customer.
* :func:`can_change_membership_of` (actor, member): who works on a project for the
  provider is the provider's decision: only staff add or remove staff.
* :func:`can_be_member_of` (user, project): staff and the project customer's contacts.

Relations and objects (awaitable, one small query or two):

* :func:`is_active_account` (user): the account still exists and was not deactivated
  (what a live subscription keeps checking).
* :func:`is_account_team_member` (user, customer_id): administrators, and staff on the
  customer's account team.
* :func:`is_project_member` (user, project_id): a membership row of the project.
* :func:`can_see_customer`, :func:`can_see_project`, :func:`can_see_page`,
  :func:`can_see_topic` (user, id): the object lies within the viewer's scope now
  (``visible_*``); :func:`can_see` (user, type_name, id) for any type of object.
* :func:`can_manage_project` (user, project): status, membership and internal content:
  administrators, and staff on the customer's account team or the project.
* :func:`can_manage_project_members` (user, project): those who manage it, and the lead
  contacts of its customer.
* :func:`can_contribute` (user, project): post and create shared pages: staff who manage
  it, the customer's lead contacts, and the project's members.
* :func:`can_edit_page` (user, page): whoever may contribute to the page's project.
* :func:`is_author` (user, post): the post is the user's own.
* :func:`can_delete_attachment` (user, attachment, page): whoever uploaded it, and staff
  who may write on its page.
* :func:`can_manage_contacts` (user, customer_id): invite and remove the customer's
  contacts: its account team and its lead contacts.
* :func:`can_sync` (user): write by external ID (``upsert*``): administrators and service
  accounts, each further bounded by the rule of the plain mutation (a customer-confined
  service account acts inside its customer only, as its contacts do).
* :func:`can_manage_webhooks` (user, customer_id): administrators, and a customer's lead
  contacts for their own customer; :func:`visible_webhook_endpoints` the endpoints one
  manages. An endpoint receives what its owner may read (:func:`visible_events`).
* Business documents: :func:`visible_business_documents` (the customer's contacts, a
  ``CUSTOMER_MEMBER`` only those of projects they are a member of, staff all);
  amounts by :func:`can_see_budget`; :func:`can_see_business_document` (user, id);
  :func:`can_manage_business_documents` (user, customer_id): create, update, push
  (``upsertBusinessDocument``, with :func:`can_sync`) and change status: the customer's
  account team; :func:`can_decide_quote` (user, document): accept or decline a quote: the
  customer's lead contacts and its account team.
* :func:`has_scope` (scopes, needed): an access token's scopes allow what a field needs
  (a session, ``scopes`` None, is not bounded by scopes).
* Requests: :func:`can_see_request` (user, id), :func:`is_requester`,
  :func:`can_submit_request` (user, customer_id), :func:`can_handle_request`,
  :func:`can_reply_to_request`, :func:`can_add_request_participant`,
  :func:`request_roles` and :func:`can_change_request_status` (the lifecycle's actors),
  :func:`can_reopen_request` (user, request).

Scopes: ``visible_customers``, ``visible_projects``, ``visible_requests``,
``visible_request_types``, ``visible_pages``,
``visible_attachments``, ``visible_microposts``, ``visible_events``, ``visible_users``,
``visible_topics``, ``readers_of`` (who may read content of a project), :func:`audience`
(who reads the same rows), :func:`search_scope` (what full-text search looks through) and
:func:`tenant` (who shares the documents their clients persisted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain import library as library_rules
from domain.errors import Forbidden, NotFound
from domain.scopes import grants
from models import (
    AccountTeamMembership,
    Attachment,
    BusinessDocument,
    Customer,
    Event,
    Micropost,
    MicropostTopic,
    Notification,
    Page,
    Project,
    ProjectMembership,
    RequestParticipant,
    RequestType,
    RequestTypeOffer,
    Role,
    SecurityAlert,
    ServiceAccount,
    ServiceRequest,
    Topic,
    User,
    Visibility,
    WebhookEndpoint,
)

# -- roles ------------------------------------------------------------------------------


def is_admin(user: User) -> bool:
    return user.is_admin


def is_staff(user: User) -> bool:
    """The provider's staff, administrators included."""
    return user.is_staff


def can_erase_user(viewer: User, user: User) -> bool:
    """Erase a person's personal data: administrators, and a customer's lead contacts for
    their own customer's contacts."""
    if viewer.is_admin:
        return True
    return is_lead_contact(viewer, user.customer_id) and not user.is_staff


def is_lead_contact(user: User, customer_id: int | None) -> bool:
    """A lead contact (``CUSTOMER_ADMIN``) of this customer."""
    return (
        customer_id is not None
        and user.role is Role.CUSTOMER_ADMIN
        and user.customer_id == customer_id
    )


def _lead_contacts_of(customer_id: int) -> Q:
    """:func:`is_lead_contact` as a filter on users."""
    return Q(role=Role.CUSTOMER_ADMIN, customer_id=customer_id)


def is_contact_of(user: User, customer_id: int | None) -> bool:
    """A contact of this customer, lead or not."""
    return customer_id is not None and not user.is_staff and user.customer_id == customer_id


def can_see_visibility(viewer: User, visibility: Visibility) -> bool:
    """INTERNAL content is staff's alone, to read and to write; SHARED is everybody's who
    may see its project."""
    return viewer.is_staff or visibility is Visibility.SHARED


def can_see_budget(viewer: User, customer_id: int) -> bool:
    """Budgets of a customer's projects: staff, and the customer's lead contacts."""
    return viewer.is_staff or is_lead_contact(viewer, customer_id)


def can_see_kpis(viewer: User, customer_id: int | None) -> bool:
    """The KPIs of a customer: staff (of any customer, and of all together with
    ``customer_id`` None), and the customer's lead contacts (their own only)."""
    return viewer.is_staff or is_lead_contact(viewer, customer_id)


def can_see_email(viewer: User, user: User) -> bool:
    """A user's email address: the user themself, staff, and their customer's lead
    contacts."""
    return viewer.is_staff or viewer.id == user.id or is_lead_contact(viewer, user.customer_id)


def can_change_membership_of(actor: User, member: User) -> bool:
    """Lead contacts add and remove their colleagues; which staff work on a project (and so
    may manage it) is the provider's decision."""
    return actor.is_staff or not member.is_staff


def can_be_member_of(user: User, project: Project) -> bool:
    """Staff, and contacts of the project's customer, may be members of a project."""
    return user.is_staff or is_contact_of(user, project.customer_id)


# -- scopes -----------------------------------------------------------------------------


def _member_project_ids(user: User) -> Subquery:
    return Subquery(ProjectMembership.filter(user_id=user.id).values("project_id"))


def visible_customers(viewer: User) -> QuerySet[Customer]:
    if viewer.is_staff:
        return Customer.all()
    return Customer.filter(id=viewer.customer_id)


def visible_projects(viewer: User) -> QuerySet[Project]:
    if viewer.is_staff:
        return Project.all()
    projects = Project.filter(customer_id=viewer.customer_id)
    if viewer.role is Role.CUSTOMER_MEMBER:
        projects = projects.filter(id__in=_member_project_ids(viewer))
    return projects


def _project_scope(viewer: User) -> Q:
    """A filter on rows with a ``project`` foreign key, for non-staff viewers."""
    scope = Q(project__customer_id=viewer.customer_id, visibility=Visibility.SHARED)
    if viewer.role is Role.CUSTOMER_MEMBER:
        scope &= Q(project_id__in=_member_project_ids(viewer))
    return scope


def visible_pages(viewer: User) -> QuerySet[Page]:
    return Page.all() if viewer.is_staff else Page.filter(_project_scope(viewer))


def visible_attachments(viewer: User) -> QuerySet[Attachment]:
    return Attachment.filter(page_id__in=Subquery(visible_pages(viewer).values("id")))


def visible_microposts(viewer: User) -> QuerySet[Micropost]:
    return Micropost.all() if viewer.is_staff else Micropost.filter(_project_scope(viewer))


def visible_events(viewer: User) -> QuerySet[Event]:
    """Staff see every event; a contact the SHARED events of their customer's projects and
    requests they may see (:func:`visible_projects`, :func:`visible_requests`), and of
    business documents: a lead contact all of them, a member those they were notified of
    (:func:`visible_business_documents` when it happened); and the SHARED events of the
    library documents they may read now, of the shared library or their customer's (an
    acknowledgement: only by a contact of their customer)."""
    if viewer.is_staff:
        return Event.all()
    shared = Q(customer_id=viewer.customer_id, visibility=Visibility.SHARED)
    readable = Subquery(library_rules.visible_documents(viewer).values("id"))
    library = Q(
        Q(customer_id=None) | Q(customer_id=viewer.customer_id),
        library_document_id__in=readable,
        visibility=Visibility.SHARED,
    )
    if viewer.role is Role.CUSTOMER_MEMBER:
        projects = Q(project_id__in=_member_project_ids(viewer))
        requests = Q(request_id__in=Subquery(visible_requests(viewer).values("id")))
        # a business document's event: those they were told of (only readers of it are)
        told = Subquery(Notification.filter(user_id=viewer.id).values("event_id"))
        documents = Q(project_id=None, request_id=None, library_document_id=None, id__in=told)
        return Event.filter((shared & (projects | requests | documents)) | library)
    return Event.filter((shared & Q(library_document_id=None)) | library)


def visible_request_types(viewer: User) -> QuerySet[RequestType]:
    """Staff see every request type; a contact those offered to their customer."""
    if viewer.is_staff:
        return RequestType.all()
    offers = RequestTypeOffer.filter(customer_id=viewer.customer_id).values("request_type_id")
    return RequestType.filter(Q(offered_to_all=True) | Q(id__in=Subquery(offers)))


def visible_requests(viewer: User) -> QuerySet[ServiceRequest]:
    """Staff see every request; a lead contact their customer's; a contact those of their
    customer they requested or participate in."""
    if viewer.is_staff:
        return ServiceRequest.all()
    requests = ServiceRequest.filter(customer_id=viewer.customer_id)
    if viewer.role is Role.CUSTOMER_MEMBER:
        joined = Subquery(RequestParticipant.filter(user_id=viewer.id).values("request_id"))
        requests = requests.filter(Q(requester_id=viewer.id) | Q(id__in=joined))
    return requests


def visible_business_documents(viewer: User) -> QuerySet[BusinessDocument]:
    """Staff see every business document; a lead contact their customer's; a
    ``CUSTOMER_MEMBER`` those of their customer's projects they are a member of."""
    if viewer.is_staff:
        return BusinessDocument.all()
    documents = BusinessDocument.filter(customer_id=viewer.customer_id)
    if viewer.role is Role.CUSTOMER_MEMBER:
        documents = documents.filter(project_id__in=_member_project_ids(viewer))
    return documents


def visible_users(viewer: User) -> QuerySet[User]:
    """Staff see everybody; a contact sees the provider's staff and their own colleagues."""
    if viewer.is_staff:
        return User.all()
    return User.filter(Q(role__in=[Role.ADMIN, Role.STAFF]) | Q(customer_id=viewer.customer_id))


def readers_of(project: Project, visibility: Visibility) -> QuerySet[User]:
    """The active users who may read content of this visibility in the project: staff, and
    for SHARED content also the customer's lead contacts and the project's members."""
    readers = Q(role__in=[Role.ADMIN, Role.STAFF])
    if visibility is Visibility.SHARED:
        members = ProjectMembership.filter(project_id=project.id).values("user_id")
        readers |= _lead_contacts_of(project.customer_id) | Q(
            customer_id=project.customer_id, id__in=Subquery(members)
        )
    return User.filter(readers, is_active=True)


def visible_topics(viewer: User) -> QuerySet[Topic]:
    """Topic names are shared across customers, but a contact only learns of a topic used in
    a post they may see: a name that only another customer uses is that customer's data."""
    if viewer.is_staff:
        return Topic.all()
    posts = Subquery(visible_microposts(viewer).values("id"))
    return Topic.filter(
        id__in=Subquery(MicropostTopic.filter(micropost_id__in=posts).values("topic_id"))
    )


def audience(viewer: User) -> tuple[object, ...]:
    """What every ``visible_*`` scope and every role rule depends on: viewers with the same
    audience read the same rows everywhere. A customer member's scope also depends on the
    projects they are a member of, so each member is an audience of their own."""
    if viewer.role is Role.CUSTOMER_MEMBER:
        return (viewer.role.value, viewer.customer_id, viewer.id)
    return (viewer.role.value, viewer.customer_id)


async def search_scope(viewer: User) -> tuple[list[int] | None, bool]:
    """What full-text search looks through for this viewer: the ids of the projects whose
    content they may read (None: every project) and whether INTERNAL content counts."""
    if viewer.is_staff:
        return None, True
    projects = await visible_projects(viewer).only("id")
    return [project.id for project in projects], False


async def search_library_scope(viewer: User) -> list[int] | None:
    """The ids of the library documents full-text search looks through for this viewer
    (None: every one, drafts included, for staff): those they may read now."""
    if viewer.is_staff:
        return None
    ids = await library_rules.visible_documents(viewer).values_list("id", flat=True)
    return [int(str(i)) for i in ids]


async def search_request_scope(viewer: User) -> list[int] | None:
    """The ids of the requests whose text full-text search looks through for this viewer
    (None: every request); INTERNAL notes count as :func:`search_scope` says."""
    if viewer.is_staff:
        return None
    return [int(str(i)) for i in await visible_requests(viewer).values_list("id", flat=True)]


def tenant(viewer: User | None) -> str:
    """Who shares what their clients leave on the server (persisted documents):
    ``"anonymous"`` callers, the provider's ``"staff"``, or one customer's contacts
    (``"customer:<id>"``)."""
    if viewer is None:
        return "anonymous"
    return "staff" if viewer.customer_id is None else f"customer:{viewer.customer_id}"


M = TypeVar("M", bound=Model)


async def get_visible(queryset: QuerySet[M], object_id: int, what: str) -> M:
    """The object within the viewer's scope (``queryset``), or NOT_FOUND: the same answer
    whether it does not exist or lies outside the scope (the audit trail tells them apart)."""
    found = await queryset.get_or_none(id=object_id)
    if found is None:
        raise NotFound(what, looked_up=(queryset.model, object_id))
    return found


# -- objects ----------------------------------------------------------------------------


async def is_active_account(user: User) -> bool:
    """The user's account exists and is active now (read from the database, not from the
    possibly older ``user`` row)."""
    return await User.exists(id=user.id, is_active=True)


async def can_see_customer(viewer: User, customer_id: int) -> bool:
    return await visible_customers(viewer).filter(id=customer_id).exists()


async def can_see_project(viewer: User, project_id: int) -> bool:
    """The project is one the viewer may read now (a member taken off it may not)."""
    return await visible_projects(viewer).filter(id=project_id).exists()


async def can_see_page(viewer: User, page_id: int) -> bool:
    """The page is one the viewer may read now."""
    return await visible_pages(viewer).filter(id=page_id).exists()


async def can_see_topic(viewer: User, topic_id: int) -> bool:
    return await visible_topics(viewer).filter(id=topic_id).exists()


_SCOPES: dict[str, Callable[[User], QuerySet[Any]]] = {
    "Customer": visible_customers,
    "Project": visible_projects,
    "Page": visible_pages,
    "Attachment": visible_attachments,
    "Micropost": visible_microposts,
    "Topic": visible_topics,
    "User": visible_users,
    "Request": visible_requests,
    "RequestType": visible_request_types,
    "BusinessDocument": visible_business_documents,
}


async def can_see(viewer: User, type_name: str, object_id: int) -> bool:
    """The object of this type (``"Customer"``, ``"Project"``, ``"Page"``, ``"Attachment"``,
    ``"Micropost"``, ``"Topic"``, ``"User"``) lies within the viewer's scope; False for any
    other type."""
    scope = _SCOPES.get(type_name)
    return scope is not None and await scope(viewer).filter(id=object_id).exists()


async def is_account_team_member(user: User, customer_id: int) -> bool:
    """Administrators, and staff on the customer's account team."""
    if user.is_admin:
        return True
    if not user.is_staff:
        return False
    return await AccountTeamMembership.exists(user_id=user.id, customer_id=customer_id)


async def account_team_customers(user: User, customer_ids: Iterable[int]) -> set[int]:
    """Those of ``customer_ids`` whose account team the user counts as on
    (:func:`is_account_team_member`), in one query."""
    wanted = set(customer_ids)
    if user.is_admin:
        return wanted
    if not user.is_staff or not wanted:
        return set()
    found = AccountTeamMembership.filter(user_id=user.id, customer_id__in=sorted(wanted))
    return {int(str(i)) for i in await found.values_list("customer_id", flat=True)}


async def is_project_member(user: User, project_id: int) -> bool:
    return await ProjectMembership.exists(user_id=user.id, project_id=project_id)


async def can_manage_project(viewer: User, project: Project) -> bool:
    """Status, membership and internal content: administrators, and staff on the customer's
    account team or the project."""
    if viewer.is_admin:
        return True
    if viewer.role is not Role.STAFF:
        return False
    return await is_account_team_member(viewer, project.customer_id) or await is_project_member(
        viewer, project.id
    )


async def can_manage_project_members(viewer: User, project: Project) -> bool:
    """Add and remove a project's members: those who manage the project, and the lead
    contacts of its customer (staff members only by staff: :func:`can_change_membership_of`)."""
    return is_lead_contact(viewer, project.customer_id) or await can_manage_project(viewer, project)


async def can_contribute(viewer: User, project: Project) -> bool:
    """Post and edit shared pages: staff who manage the project, the customer's lead
    contacts, and the project's members."""
    if viewer.is_staff:
        return await can_manage_project(viewer, project)
    if is_lead_contact(viewer, project.customer_id):
        return True
    return is_contact_of(viewer, project.customer_id) and await is_project_member(
        viewer, project.id
    )


async def can_edit_page(viewer: User, page: Page, project: Project | None = None) -> bool:
    """Write on a page (edit, restore, move): whoever may contribute to its project
    (``project``, when the caller has loaded it already)."""
    if project is None:
        project = await Project.get(id=page.project_id)
    return await can_contribute(viewer, project)


def is_author(viewer: User, post: Micropost) -> bool:
    """The post is the viewer's own."""
    return post.author_id == viewer.id


async def can_delete_attachment(viewer: User, attachment: Attachment, page: Page) -> bool:
    """Whoever uploaded the file, and staff who may write on its page (``page``)."""
    if attachment.uploaded_by_id == viewer.id:
        return True
    return viewer.is_staff and await can_edit_page(viewer, page)


async def can_manage_contacts(viewer: User, customer_id: int) -> bool:
    """Invite and remove a customer's contacts: its account team (and administrators) and
    its lead contacts."""
    if viewer.is_staff:
        return await is_account_team_member(viewer, customer_id)
    return is_lead_contact(viewer, customer_id)


async def can_see_request(viewer: User, request_id: int) -> bool:
    """The request is one the viewer may read now (:func:`visible_requests`)."""
    return await visible_requests(viewer).filter(id=request_id).exists()


def is_requester(user: User, request: ServiceRequest) -> bool:
    """The user submitted the request."""
    return request.requester_id == user.id


async def can_submit_request(viewer: User, customer_id: int) -> bool:
    """Submit a request for a customer: its contacts, and its account team (on a contact's
    behalf)."""
    if viewer.is_staff:
        return await is_account_team_member(viewer, customer_id)
    return is_contact_of(viewer, customer_id)


async def can_handle_request(viewer: User, request: ServiceRequest) -> bool:
    """Work on a request for the provider (assign it, set its due date, write INTERNAL
    notes, change its status as staff): administrators, its assignee, and staff on its
    customer's account team."""
    if not viewer.is_staff:
        return False
    return request.assignee_id == viewer.id or await is_account_team_member(
        viewer, request.customer_id
    )


async def can_reply_to_request(viewer: User, request: ServiceRequest) -> bool:
    """Write in a request's conversation: staff who handle it, and the contacts who see it
    (SHARED replies only: :func:`can_see_visibility`)."""
    if viewer.is_staff:
        return await can_handle_request(viewer, request)
    return await can_see_request(viewer, request.id)


async def can_add_request_participant(viewer: User, request: ServiceRequest) -> bool:
    """Add a colleague to a request: its requester, its customer's lead contacts, and staff
    who handle it."""
    if viewer.is_staff:
        return await can_handle_request(viewer, request)
    return is_requester(viewer, request) or is_lead_contact(viewer, request.customer_id)


async def request_roles(viewer: User, request: ServiceRequest) -> frozenset[str]:
    """The actors of a request's lifecycle the viewer counts as: ``STAFF`` (staff who
    handle it), ``REQUESTER``, ``LEAD_CONTACT`` (of its customer). A transition is allowed
    to the viewer when its ``by`` holds one of them."""
    on_team = viewer.is_staff and await is_account_team_member(viewer, request.customer_id)
    return request_roles_given(viewer, request, on_account_team=on_team)


def request_roles_given(
    viewer: User, request: ServiceRequest, *, on_account_team: bool
) -> frozenset[str]:
    """:func:`request_roles`, told whether the viewer is on the account team of the
    request's customer (:func:`account_team_customers`, for a list of requests)."""
    roles: set[str] = set()
    if viewer.is_staff and (on_account_team or request.assignee_id == viewer.id):
        roles.add("STAFF")
    if is_requester(viewer, request):
        roles.add("REQUESTER")
    if is_lead_contact(viewer, request.customer_id):
        roles.add("LEAD_CONTACT")
    return frozenset(roles)


async def can_change_request_status(viewer: User, request: ServiceRequest) -> bool:
    """Make a transition of the request's lifecycle: whoever is one of the actors it names
    for that transition (:func:`request_roles`); the lifecycle says which."""
    return bool(await request_roles(viewer, request))


def can_reopen_request(viewer: User, request: ServiceRequest) -> bool:
    """Reopen a resolved request: its requester, within its type's reopening window (the
    action checks the window)."""
    return is_requester(viewer, request)


async def require_contributor(viewer: User, project: Project) -> None:
    """FORBIDDEN unless :func:`can_contribute`."""
    if not await can_contribute(viewer, project):
        raise Forbidden(
            "You can read this project but not write in it. Ask its account team to add you."
        )


async def require_manager(viewer: User, project: Project) -> None:
    """FORBIDDEN unless :func:`can_manage_project`."""
    if not await can_manage_project(viewer, project):
        raise Forbidden(
            "Only the project's account team, its staff members or an administrator may do this."
        )


async def can_sync(viewer: User) -> bool:
    """Write by external ID (``upsertCustomer``, ``upsertProject``, ``upsertContact``):
    administrators and service accounts; each upsert is bounded too by the rule of the
    plain mutation it stands for (``createCustomer``, ``createProject``, ``inviteContact``)."""
    return viewer.is_admin or await ServiceAccount.exists(user_id=viewer.id)


def can_manage_webhooks(user: User, customer_id: int | None) -> bool:
    """Register and manage webhook endpoints: administrators (for any customer or all), and
    a customer's lead contacts for their own customer."""
    return is_admin(user) or is_lead_contact(user, customer_id)


def visible_webhook_endpoints(viewer: User) -> QuerySet[WebhookEndpoint]:
    """The webhook endpoints a user manages: administrators every one; a lead contact those
    they own (always of their own customer); others none."""
    if is_admin(viewer):
        return WebhookEndpoint.all()
    if viewer.role is Role.CUSTOMER_ADMIN:
        return WebhookEndpoint.filter(owner_id=viewer.id, customer_id=viewer.customer_id)
    return WebhookEndpoint.filter(id__in=[])


def can_see_security_alerts(user: User) -> bool:
    """Read and handle suspicious-activity alerts: administrators (every alert), and a
    customer's lead contacts (alerts about their own customer's contacts)."""
    return is_admin(user) or (user.role is Role.CUSTOMER_ADMIN and user.customer_id is not None)


def visible_security_alerts(viewer: User) -> QuerySet[SecurityAlert]:
    """The alerts a user sees: administrators every one; a lead contact those about their
    own customer's contacts; others none."""
    if is_admin(viewer):
        return SecurityAlert.all()
    if can_see_security_alerts(viewer):
        return SecurityAlert.filter(customer_id=viewer.customer_id)
    return SecurityAlert.filter(id__in=[])


async def can_see_business_document(viewer: User, document_id: int) -> bool:
    """The business document is one the viewer may read now."""
    return await visible_business_documents(viewer).filter(id=document_id).exists()


async def can_manage_business_documents(viewer: User, customer_id: int) -> bool:
    """Create, update and change the status of a customer's business documents: its
    account team (administrators included)."""
    return await is_account_team_member(viewer, customer_id)


async def can_decide_quote(viewer: User, document: BusinessDocument) -> bool:
    """Accept or decline a quote: the lead contacts of its customer, and its account team
    (recording a decision the customer made elsewhere)."""
    if is_lead_contact(viewer, document.customer_id):
        return True
    return await is_account_team_member(viewer, document.customer_id)


def has_scope(scopes: Iterable[str] | None, needed: str) -> bool:
    """An access token's ``scopes`` allow what a field needs (domain/scopes.py); a signed-in
    session (``scopes`` None) is not bounded by scopes."""
    return scopes is None or grants(scopes, needed)


# -- the document library -----------------------------------------------------------------


async def can_see_library_document(viewer: User, document_id: int) -> bool:
    """The library document is one the viewer may read now (domain/library.py)."""
    return await library_rules.visible_documents(viewer).filter(id=document_id).exists()


async def can_manage_library(viewer: User, customer_id: int | None) -> bool:
    """Create and change folders, documents and versions: staff for the shared library
    (``customer_id`` None), a customer's account team for its library; administrators."""
    if customer_id is None:
        return viewer.is_admin or await AccountTeamMembership.exists(user_id=viewer.id)
    return await is_account_team_member(viewer, customer_id)


async def can_open_folder(viewer: User, customer_id: int | None) -> bool:
    """Open a customer's folder to its members or close it: the customer's lead contacts
    and its account team (not a folder of the shared library)."""
    if customer_id is None:
        return False
    return is_lead_contact(viewer, customer_id) or await is_account_team_member(viewer, customer_id)


def can_acknowledge_document(viewer: User) -> bool:
    """Acknowledge a document's current version: a contact who may see the document."""
    return not viewer.is_staff


def can_delete_document_version(viewer: User) -> bool:
    """Delete a version of a library document: administrators alone (audited)."""
    return viewer.is_admin
