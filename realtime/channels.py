"""Channel names, made only here (the event bus adds its deployment namespace)."""

from __future__ import annotations


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
