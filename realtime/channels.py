"""Channel names, made only here."""

from __future__ import annotations


def project_channel(project_id: int) -> str:
    return f"extranet.project.{project_id}"


def customer_channel(customer_id: int) -> str:
    return f"extranet.customer.{customer_id}"
