"""Indexes for the dashboard's reads (actions/dashboard.py): a staff member's assigned
requests by status, a request's status history in order, the customers' recent top-level
posts of a project and the replies to a post, and a user's kept page drafts. Plain SQL
that both SQLite and PostgreSQL take; the models need no change for them."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "service_requests_assignee_status": "service_requests (assignee_id, status)",
    "request_status_changes_request_created": "request_status_changes (request_id, created_at)",
    "microposts_project_parent_created": "microposts (project_id, parent_id, created_at)",
    "microposts_parent": "microposts (parent_id)",
    "page_drafts_author": "page_drafts (author_id)",
}


class Migration(migrations.Migration):
    dependencies = [("models", "0023_library_watches")]

    initial = False

    operations: list[migrations.Operation] = [
        ops.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {columns}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
