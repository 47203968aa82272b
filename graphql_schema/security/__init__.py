"""Suspicious activity in the API: ``securityAlerts``, ``acknowledgeSecurityAlert`` and
``resolveSecurityAlert``."""
