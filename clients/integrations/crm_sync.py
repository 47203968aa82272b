"""Provision customers from a CRM's CSV export: one customer per row, with its email
domain, account manager, projects and lead contact.

Usage::

    EXTRANET_URL=https://extranet.example EXTRANET_TOKEN=xnt_sat_... \\
        python crm_sync.py customers.csv

``EXTRANET_TOKEN`` is a service account's token (an ``ADMIN`` service account: creating
customers and setting their email domains is an administrator's) with the scopes
``customers:write`` and ``projects:write``.

The CSV has a header row with these columns (see ``customers.csv``):

``external_id``
    The CRM's account ID (required); the customer's external ID for the source ``crm``.
``company_name``
    The customer's name (required).
``email_domain``
    The customer's email domain (optional; replaces its list of domains).
``account_manager_email``
    A staff member's address (optional): the account team becomes this person.
``lead_contact_external_id``, ``lead_contact_name``, ``lead_contact_email``
    The lead contact (``CUSTOMER_ADMIN``), invited by mail when new; the external ID
    defaults to the address.
``projects``
    ``EXTERNAL_ID:Name`` pairs separated by ``;`` (optional); the lead contact becomes a
    member of each.

Every row is written with ``upsertCustomer``, ``setCustomerEmailDomains``,
``upsertProject`` and ``upsertContact``, which create or update by external ID, so running
the same export again creates nothing new. Each request carries an ``Idempotency-Key``
made from the row's content and the step, so a request retried after a lost answer is
not done twice.

Prints one line per row (``line 2: ACC-1001 Initech: customer created, ...``; ``updated``
when it existed, ``unchanged`` when this very row was written before) and, for a
row that fails, its line number and the server's message on standard error; the other
rows still run. Exit status: 0 when every row was written, 1 when any row failed, 2 when
the file or the settings are unusable.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

SOURCE = "crm"
REQUIRED = ("external_id", "company_name")
ATTEMPTS = 3  # per request, on a transport error, a 5xx answer or a key still in use

UPSERT_CUSTOMER = """
mutation ($input: UpsertCustomerInput!) {
  upsertCustomer(input: $input) { created customer { id name } }
}"""

SET_EMAIL_DOMAINS = """
mutation ($input: SetCustomerEmailDomainsInput!) {
  setCustomerEmailDomains(input: $input) { __typename }
}"""

UPSERT_PROJECT = """
mutation ($input: UpsertProjectInput!) {
  upsertProject(input: $input) { created project { id name } }
}"""

UPSERT_CONTACT = """
mutation ($input: UpsertContactInput!) {
  upsertContact(input: $input) { created invited user { id } }
}"""


class RowError(Exception):
    """A row that could not be written, with the reason to show."""


@dataclass(frozen=True)
class Client:
    """GraphQL over HTTP with a bearer token."""

    http: httpx.Client
    token: str

    def mutate(self, query: str, variables: dict[str, Any], key: str) -> dict[str, Any]:
        """The mutation's ``data``; sent with ``Idempotency-Key: key`` and retried with the
        same key when no usable answer came. A repeat of a request the server already
        answered (within 24 hours) gets that first answer again, with
        ``Idempotent-Replayed: true``: ``data["replayed"]`` says so. Raises RowError with
        the server's message."""
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        payload = {"query": query, "variables": variables}
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self.http.post("graphql", json=payload, headers=headers)
            except httpx.TransportError as error:
                if attempt == ATTEMPTS:
                    raise RowError(f"no answer from the server: {error}") from error
            else:
                retry = answer.status_code >= 500 or (
                    answer.status_code == 409 and "Retry-After" in answer.headers
                )
                if not retry or attempt == ATTEMPTS:
                    data = _data(answer)
                    data["replayed"] = answer.headers.get("Idempotent-Replayed") == "true"
                    return data
            time.sleep(attempt)
        raise AssertionError("unreachable")


def _data(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        raise RowError(f"HTTP {answer.status_code}: {answer.text[:200]}") from None
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", f"HTTP {answer.status_code}")
        field = (first.get("extensions") or {}).get("field")
        where = f" ({field})" if field else ""
        raise RowError(f"{code}{where}: {first.get('message', '')}")
    if answer.status_code >= 400 or not isinstance(body.get("data"), dict):
        raise RowError(f"HTTP {answer.status_code}: {answer.text[:200]}")
    data: dict[str, Any] = body["data"]
    return data


def idempotency_key(row: dict[str, str], step: str) -> str:
    """A key that is the same exactly when the row's content and the step are: a re-run
    of an unchanged export replays, a changed row is written anew."""
    content = json.dumps({"step": step, "row": row}, sort_keys=True)
    return "crm-sync-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def parse_projects(text: str) -> list[tuple[str, str]]:
    """``"OPP-77:Intranet;OPP-78:Archive"`` → ``[("OPP-77", "Intranet"), ...]``."""
    projects = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        external_id, colon, name = item.partition(":")
        if not colon or not external_id.strip() or not name.strip():
            raise RowError(f"projects: {item!r} is not EXTERNAL_ID:Name")
        projects.append((external_id.strip(), name.strip()))
    return projects


def sync_row(client: Client, row: dict[str, str]) -> str:
    """Write one row; what was done, in words. Raises RowError."""
    missing = [column for column in REQUIRED if not row.get(column)]
    if missing:
        raise RowError(f"empty {', '.join(missing)}")
    projects = parse_projects(row.get("projects", ""))
    account = row["external_id"]
    done: list[str] = []

    customer_input: dict[str, Any] = {
        "source": SOURCE,
        "externalId": account,
        "name": row["company_name"],
    }
    if row.get("account_manager_email"):
        customer_input["accountTeamEmails"] = [row["account_manager_email"]]
    answer = client.mutate(
        UPSERT_CUSTOMER, {"input": customer_input}, idempotency_key(row, "customer")
    )
    customer_id = answer["upsertCustomer"]["customer"]["id"]
    done.append("customer " + _outcome(answer, "upsertCustomer"))

    if row.get("email_domain"):
        client.mutate(
            SET_EMAIL_DOMAINS,
            {"input": {"customerId": customer_id, "domains": [row["email_domain"]]}},
            idempotency_key(row, "domains"),
        )

    for external_id, name in projects:
        project_input = {
            "source": SOURCE,
            "externalId": external_id,
            "customerExternalId": account,
            "name": name,
        }
        answer = client.mutate(
            UPSERT_PROJECT, {"input": project_input}, idempotency_key(row, f"project {external_id}")
        )
        done.append(f"project {external_id} " + _outcome(answer, "upsertProject"))

    if row.get("lead_contact_email"):
        contact_input = {
            "source": SOURCE,
            "externalId": row.get("lead_contact_external_id") or row["lead_contact_email"],
            "customerExternalId": account,
            "email": row["lead_contact_email"],
            "name": row.get("lead_contact_name") or row["lead_contact_email"],
            "role": "CUSTOMER_ADMIN",
            "projectExternalIds": [external_id for external_id, _ in projects],
        }
        answer = client.mutate(
            UPSERT_CONTACT, {"input": contact_input}, idempotency_key(row, "contact")
        )
        invited = answer["upsertContact"]["invited"] and not answer["replayed"]
        done.append("lead contact " + _outcome(answer, "upsertContact") + (" (invited)" * invited))
    return ", ".join(done)


def _outcome(answer: dict[str, Any], field: str) -> str:
    """``created``, ``updated`` or, for an unchanged row written before, ``unchanged``."""
    if answer["replayed"]:
        return "unchanged"
    return "created" if answer[field]["created"] else "updated"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: crm_sync.py EXPORT.csv  (with EXTRANET_URL and EXTRANET_TOKEN set)",
              file=sys.stderr)  # fmt: skip
        return 2
    url, token = os.environ.get("EXTRANET_URL", ""), os.environ.get("EXTRANET_TOKEN", "")
    if not url or not token:
        print("EXTRANET_URL and EXTRANET_TOKEN must be set", file=sys.stderr)
        return 2
    path = Path(argv[1])
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            absent = [column for column in REQUIRED if column not in (reader.fieldnames or [])]
            if absent:
                print(f"{path}: missing column(s) {', '.join(absent)}", file=sys.stderr)
                return 2
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 2

    failed = 0
    with httpx.Client(base_url=url.rstrip("/") + "/", timeout=30) as http:
        client = Client(http, token)
        for line, raw in rows:
            row = {key: (value or "").strip() for key, value in raw.items() if key}
            label = f"line {line}: {row.get('external_id') or '?'} {row.get('company_name', '')}"
            try:
                print(f"{label}: {sync_row(client, row)}", flush=True)
            except RowError as error:
                failed += 1
                print(f"{label}: FAILED: {error}", file=sys.stderr, flush=True)
    print(f"{len(rows) - failed} of {len(rows)} rows written", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
