"""The GraphQL API: one package per domain, composed in :mod:`graphql_schema.schema`."""
