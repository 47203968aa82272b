"""Channel names, made only here (the event bus adds its deployment namespace)."""

from __future__ import annotations

from models.events import LIBRARY_EVENT_KINDS, EventKind


def project_channel(project_id: int) -> str:
    """Every event of the project, and ``Control.RIGHTS_CHANGED`` when someone lost
    access to it."""
    return f"project.{project_id}"


def feed_channel(user_id: int) -> str:
    """Events that produced a notification for this user."""
    return f"user.{user_id}.feed"


def inbox_channel(user_id: int) -> str:
    """Any change of this user's unread count."""
    return f"user.{user_id}.inbox"


def sessions_channel(user_id: int) -> str:
    """One of this user's sign-in sessions ended (or all of them): open sockets look again."""
    return f"user.{user_id}.sessions"


def rights_channel(user_id: int) -> str:
    """This user lost access to something (a project, their customer): views they hold
    that are not on a project's channel (page presence) look again."""
    return f"user.{user_id}.rights"


def presence_channel(page_id: int) -> str:
    """Someone arrived on, left or started or stopped editing this page."""
    return f"page.{page_id}.presence"


def customer_requests_channel(customer_id: int) -> str:
    """Every event of the customer's requests (their contacts' request streams), and
    ``Control.RIGHTS_CHANGED`` when one of its contacts lost sight of a request."""
    return f"customer.{customer_id}.requests"


def requests_channel() -> str:
    """Every event of every customer's requests (the staff's request streams)."""
    return "requests"


def customer_documents_channel(customer_id: int) -> str:
    """Every event of the customer's business documents (their contacts' streams)."""
    return f"customer.{customer_id}.documents"


def documents_channel() -> str:
    """Every event of every customer's business documents (the staff's streams)."""
    return "documents"


def library_channel() -> str:
    """Every event of the document library, shared or of any customer (each subscriber
    checks which are theirs)."""
    return "library"


def event_channels(
    project_id: int | None,
    customer_id: int | None,
    request_id: int | None,
    *,
    kind: EventKind | None = None,
) -> list[str]:
    """The channels an event of this project, of a request or a business document of this
    customer, or of the library (``kind`` one of LIBRARY_EVENT_KINDS) goes to (besides the
    feeds of those it notified)."""
    if kind in LIBRARY_EVENT_KINDS:
        return [library_channel()]
    assert customer_id is not None, "only a library event may concern no customer"
    if request_id is not None:
        return [customer_requests_channel(customer_id), requests_channel()]
    if project_id is None:  # a business document's event
        return [customer_documents_channel(customer_id), documents_channel()]
    assert project_id is not None, "an event has a project or a request"
    return [project_channel(project_id)]
