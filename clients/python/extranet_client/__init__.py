"""``extranet-client``: the extranet from a terminal.

Sign in, list your projects, follow a project's timeline live, post, and read or edit a
concept page in ``$EDITOR``. Built on the gql library; the GraphQL documents it sends are
those of ``clients/operations/``.
"""
