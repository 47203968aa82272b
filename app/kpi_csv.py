"""``GET /kpis/{kpi}.csv``: a KPI's table as CSV, for a spreadsheet.

The query string names what ``kpis`` takes: ``customerId`` (a global ID; staff may leave it
out for all customers), and ``from`` and ``to`` (ISO dates) or ``preset``
(``LAST_30_DAYS``...; the default). ``table=records`` (the default) gives the records the
figure was computed from (kind, ID of the object when the caller may see it, label,
contribution, out of); ``table=series`` with ``interval=DAY`` or ``WEEK`` gives the figure
per day or week (start, value). Same rules as ``kpis``, with the caller's bearer token: 401
without one, 404 for an unknown KPI or a customer out of sight, 403 for a caller who may not
read KPIs (and for an access token: KPIs are for people signed in), 400 for a malformed
period. Cells that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from enum import StrEnum
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain import kpis
from domain.auth import authenticate
from domain.errors import AppError, BadUserInput, NotFound
from domain.scopes import NO_TOKEN, require_scope
from graphql_schema.errors import error_body
from graphql_schema.kpis.queries import kpis_for
from graphql_schema.kpis.types import KpiPeriodInput, record_nodes
from graphql_schema.relay import global_id
from infra.settings import Settings

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "BAD_USER_INPUT": 400}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
E = TypeVar("E", bound=StrEnum)


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadUserInput(f"`{name}` must be a date such as 2026-01-31.", field=name) from None


def _choice(request: Request, name: str, enum: type[E]) -> E | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise BadUserInput(f"`{name}` must be one of {choices}.", field=name) from None


def _csv(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


async def download(request: Request) -> Response:
    """The CSV of the KPI named in the path (see the module's description)."""
    settings: Settings = request.app.state.settings
    key = request.path_params["kpi"]
    try:
        signed_in = (await authenticate(settings, request.headers.get("authorization"))).require()
        require_scope(signed_in.scopes, NO_TOKEN)
        kpi = kpis.KPIS.get(key)
        if kpi is None:
            raise NotFound("KPI")
        period = KpiPeriodInput(
            from_=_date(request, "from"),
            to=_date(request, "to"),
            preset=_choice(request, "preset", kpis.Preset),
        )
        if period.from_ is None and period.to is None and period.preset is None:
            period = KpiPeriodInput(preset=kpis.Preset.LAST_30_DAYS)
        answer = await kpis_for(signed_in.user, request.query_params.get("customerId"), period)
        computed = answer.computed
        table = request.query_params.get("table", "records")
        if table == "series":
            interval = _choice(request, "interval", kpis.Interval) or kpis.Interval.DAY
            points = kpi.series(computed.facts, computed.period, interval)
            rows: list[list[object]] = [["start", "value"]]
            rows += [[start.isoformat(), "" if value is None else value] for start, value in points]
        elif table == "records":
            records = kpi.measure(computed.facts, computed.period).records
            rows = [["kind", "id", "label", "contribution", "outOf"]]
            for record, label, node in await record_nodes(signed_in.user, records):
                shown = ""
                if node is not None and record.object_id is not None:
                    shown = global_id(record.kind, record.object_id)
                rows.append([record.kind, shown, label, record.contribution, record.out_of or ""])
        else:
            raise BadUserInput("`table` must be records or series.", field="table")
    except AppError as error:
        return JSONResponse(error_body(error), status_code=STATUS.get(error.code, 500))
    name = f"{key}-{computed.period.start.isoformat()}-{computed.period.end.isoformat()}.csv"
    return Response(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
