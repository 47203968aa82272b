"""The face of the extranet: the ASGI application and its lifespan, the HTTP routes (web
client, files, GraphQL over HTTP), the command line and the demo data loader.

The packages are layers, each importing only those below it (import-linter contracts in
``pyproject.toml`` keep this true; ``make check`` runs them)::

    app            the face: ASGI app, lifespan, HTTP routes, CLI, demo
    graphql_schema types, permission classes, subscriptions, error formatting
    actions        the only writers and publishers
    realtime       transport: channels, broadcaster backends, fan-out
    domain         policy predicates, authentication, errors with codes, text
    models         the Tortoise models and migrations
    infra          settings, Redis clients, file storage
"""
