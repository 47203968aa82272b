"""Extranet collaboration backend: application layer (settings, lifespan, auth, CLI, actions)."""
