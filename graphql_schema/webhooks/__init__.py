"""Webhooks in the API: endpoints, their delivery log, redelivery and ``webhookEvents``."""
