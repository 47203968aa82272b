"""The domain layer: authorization predicates (``policy``), authentication and tokens,
errors that carry a code and know no GraphQL, text, Markdown, diffs and merges, cursors and
search. It reads models; it never writes them, publishes events, or imports GraphQL."""
