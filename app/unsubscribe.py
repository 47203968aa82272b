"""One-click unsubscribe (RFC 8058): ``/mail/unsubscribe/<token>``.

Every notification mail names this link in ``List-Unsubscribe`` with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail client POSTs
``List-Unsubscribe=One-Click`` to it, and the mail's category is OFF for its recipient (again
and again: the same answer). Opening the link in a browser (GET) changes nothing: it shows
a page whose button sends that POST, since link checkers and mail scanners open links too.
An unknown token answers 404."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from actions.mail_notifications import unsubscribe
from domain.errors import NotFound
from domain.mail_schedule import LIST_NAMES
from infra.settings import Settings
from models import MailCategory, MailPreference

PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_NAMES = {
    MailCategory.MENTIONS_AND_REPLIES: "mentions and replies",
    MailCategory.WATCHED: "what you watch",
    MailCategory.REQUESTS: "requests",
    MailCategory.ACCOUNT: "account notices",
}
assert set(_NAMES) == set(LIST_NAMES)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status, headers={"Content-Security-Policy": PAGE_POLICY})


def _preferences_link(settings: Settings) -> str:
    url = escape(f"{settings.public_url}/#/account")
    return f'<p>You can choose what mail you get on <a href="{url}">your account page</a>.</p>'


async def show(request: Request) -> HTMLResponse:
    """GET: a page with the button that unsubscribes (nothing changes on GET)."""
    token = request.path_params["token"]
    row = await MailPreference.get_or_none(unsubscribe_token=token)
    if row is None:
        return _page("Link not found", "<p>This unsubscribe link is not valid.</p>", 404)
    settings: Settings = request.app.state.settings
    name = _NAMES[row.category]
    form = (
        f'<form method="post" action="/mail/unsubscribe/{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f"<p>Stop mail about {escape(name)}?</p>"
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe", form + _preferences_link(settings))


async def one_click(request: Request) -> HTMLResponse:
    """POST (``List-Unsubscribe=One-Click``, as a mail client or the page's button sends
    it): the category is OFF; 200 however often it is sent; 404 for an unknown token."""
    token = request.path_params["token"]
    settings: Settings = request.app.state.settings
    try:
        category = await unsubscribe(token)
    except NotFound:
        return _page("Link not found", "<p>This unsubscribe link is not valid.</p>", 404)
    body = f"<p>You will get no more mail about {escape(_NAMES[category])}.</p>"
    return _page("Unsubscribed", body + _preferences_link(settings))


def unsubscribe_routes() -> list[Route]:
    return [
        Route("/mail/unsubscribe/{token}", show, methods=["GET"]),
        Route("/mail/unsubscribe/{token}", one_click, methods=["POST"]),
    ]
