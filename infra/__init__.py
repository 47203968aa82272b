"""Shared infrastructure below every layer: settings from the environment, the Redis clients
of the process, and the content-addressed file storage. It imports nothing of the product."""
