"""Channel names, made only here (the event bus adds its deployment namespace)."""

from __future__ import annotations


def project_channel(project_id: int) -> str:
    return f"project.{project_id}"


def customer_channel(customer_id: int) -> str:
    return f"customer.{customer_id}"
