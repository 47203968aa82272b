"""The whole API, composed from the domain packages."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from domain.errors import AppError
from graphql_schema.accounts import invitations as accounts_invitations
from graphql_schema.accounts import lifecycle as accounts_lifecycle
from graphql_schema.accounts import mfa as accounts_mfa
from graphql_schema.accounts import mutations as accounts_mutations
from graphql_schema.accounts import queries as accounts_queries
from graphql_schema.audit import queries as audit_queries
from graphql_schema.business_documents import mutations as business_documents_mutations
from graphql_schema.business_documents import queries as business_documents_queries
from graphql_schema.business_documents import (
    subscriptions as business_documents_subscriptions,
)
from graphql_schema.customers import mutations as customers_mutations
from graphql_schema.customers import queries as customers_queries
from graphql_schema.dashboard import queries as dashboard_queries
from graphql_schema.dashboard import subscriptions as dashboard_subscriptions
from graphql_schema.denials import AuditDenials
from graphql_schema.errors import ErrorCodes, coded_escape, escaped, graphql_error
from graphql_schema.inputs import CheckedInputs
from graphql_schema.integrations import tokens as integrations_tokens
from graphql_schema.integrations import upserts as integrations_upserts
from graphql_schema.integrations.scopes import declare_scopes
from graphql_schema.kpis import queries as kpis_queries
from graphql_schema.library import mutations as library_mutations
from graphql_schema.library import queries as library_queries
from graphql_schema.library import subscriptions as library_subscriptions
from graphql_schema.limits import CheckedDocuments
from graphql_schema.mail import mutations as mail_mutations
from graphql_schema.mail import queries as mail_queries
from graphql_schema.microposts import mutations as microposts_mutations
from graphql_schema.microposts import queries as microposts_queries
from graphql_schema.nodes import queries as nodes_queries
from graphql_schema.notifications import mutations as notifications_mutations
from graphql_schema.notifications import queries as notifications_queries
from graphql_schema.pages import attachments as pages_attachments
from graphql_schema.pages import mutations as pages_mutations
from graphql_schema.pages import presence as pages_presence
from graphql_schema.pages import queries as pages_queries
from graphql_schema.persisted import mutations as persisted_mutations
from graphql_schema.personal_data import api as personal_data_api
from graphql_schema.projects import mutations as projects_mutations
from graphql_schema.projects import queries as projects_queries
from graphql_schema.requests import mutations as requests_mutations
from graphql_schema.requests import queries as requests_queries
from graphql_schema.requests import subscriptions as requests_subscriptions
from graphql_schema.scalars import SCALAR_OVERRIDES
from graphql_schema.search import queries as search_queries
from graphql_schema.security import api as security_api
from graphql_schema.timeline import subscriptions as timeline_subscriptions
from graphql_schema.timeline.types import TimelineEvent
from graphql_schema.watches import mutations as watches_mutations
from graphql_schema.watches import queries as watches_queries
from graphql_schema.watches.types import Watch
from graphql_schema.webhooks import api as webhooks_api

Query = merge_types(
    "Query",
    (
        accounts_queries.Query,
        accounts_invitations.Query,
        nodes_queries.Query,
        customers_queries.Query,
        projects_queries.Query,
        requests_queries.Query,
        business_documents_queries.Query,
        library_queries.Query,
        pages_queries.Query,
        microposts_queries.Query,
        watches_queries.Query,
        notifications_queries.Query,
        dashboard_queries.Query,
        mail_queries.Query,
        search_queries.Query,
        kpis_queries.Query,
        audit_queries.Query,
        personal_data_api.Query,
        security_api.Query,
        integrations_tokens.Query,
        webhooks_api.Query,
    ),
)

Mutation = merge_types(
    "Mutation",
    (
        accounts_mutations.Mutation,
        accounts_invitations.Mutation,
        accounts_lifecycle.Mutation,
        accounts_mfa.Mutation,
        customers_mutations.Mutation,
        projects_mutations.Mutation,
        requests_mutations.Mutation,
        business_documents_mutations.Mutation,
        library_mutations.Mutation,
        microposts_mutations.Mutation,
        pages_mutations.Mutation,
        pages_attachments.Mutation,
        pages_presence.Mutation,
        watches_mutations.Mutation,
        notifications_mutations.Mutation,
        mail_mutations.Mutation,
        persisted_mutations.Mutation,
        integrations_tokens.Mutation,
        integrations_upserts.Mutation,
        webhooks_api.Mutation,
        personal_data_api.Mutation,
        security_api.Mutation,
    ),
)


Subscription = merge_types(
    "Subscription",
    (
        timeline_subscriptions.Subscription,
        pages_presence.Subscription,
        requests_subscriptions.Subscription,
        business_documents_subscriptions.Subscription,
        dashboard_subscriptions.Subscription,
        library_subscriptions.Subscription,
    ),
)


# what an access token needs for each root field (@hasScope in the SDL)
declare_scopes(Query, Mutation, Subscription)


class ExtranetSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Unexpected errors are logged once, with their reference, by :class:`ErrorCodes`.

        An exception raised by an extension's hook bypasses it (strawberry answers its text,
        with no code): it is replaced here, in the list that is answered, as is a domain
        error (its code and details, :func:`graphql_error`)."""
        context = execution_context.context if execution_context is not None else None
        production = bool(getattr(getattr(context, "settings", None), "is_production", True))
        for index, error in enumerate(errors):
            if isinstance(error.original_error, AppError):
                errors[index] = graphql_error(error.original_error, error)
            elif escaped(error):
                errors[index] = coded_escape(error, production=production)


def build_schema(**kwargs: Any) -> ExtranetSchema:
    return ExtranetSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Watch, TimelineEvent],
        # Parsed and validated within the request limits, both cached by document text;
        # then every argument checked against what storage and JSON can hold.
        extensions=[CheckedDocuments, CheckedInputs, ErrorCodes, AuditDenials],
        scalar_overrides=SCALAR_OVERRIDES,
        **kwargs,
    )


schema = build_schema()
