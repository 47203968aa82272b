"""Configuration read from the environment, with embedded defaults for development."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

ENVIRONMENTS = ("development", "production")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")
BROADCAST_SCHEMES = ("memory", "redis", "rediss")
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one GraphQL request may ask (graphql_schema/limits.py enforces them)."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_document_bytes: int = 20_000
    max_directives: int = 5
    max_cost: int = 10_000
    production: bool = False


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str
    database_url: str
    broadcast_url: str
    broadcast_namespace: str
    secret_key: str
    token_issuer: str
    token_audience: str
    access_token_ttl: int
    refresh_token_ttl: int
    ws_init_timeout: int
    attachments_dir: Path
    attachment_max_bytes: int
    query_limits: QueryLimits
    ws_allowed_origins: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()  # other sites whose pages may call HTTP
    ws_max_subscriptions: int = 50
    ws_max_connections_per_user: int = 20
    # permessage-deflate on websockets, when a client offers it (benchmarks/README.md: a
    # timeline frame is a few hundred bytes; compressing it costs each socket ~45 KiB of
    # zlib state and about a fifth of the CPU of delivering it)
    ws_per_message_deflate: bool = False
    previous_secret_keys: tuple[str, ...] = ()
    mfa_issuer: str = "Extranet"
    persisted_queries: str = "automatic"  # or "registered"; see app/persisted.py
    persisted_query_cache_size: int = 1000
    max_body_bytes: int = 5 * 512 * 1024  # an HTTP body or websocket message: 2.5 MiB
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-For counts
    attachment_uploads_per_minute: int = 30  # per user; a deletion counts as an upload
    attachment_user_quota_bytes: int = 2 * 1024**3  # what one user's uploads may add up to
    attachment_customer_quota_bytes: int = 20 * 1024**3  # the files on a customer's pages
    # Mail (README "Mail"): where it goes (smtp://, smtps:// or maildir://), who sends it,
    # the base of its links (the web client's routes are under it); mail_enabled False drops it
    mail_enabled: bool = True
    smtp_url: str = f"maildir://{VAR_DIR / 'mail'}"
    mail_from: str = "Extranet <extranet@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    smtp_timeout: int = 30  # seconds for connecting and for each SMTP command
    mail_gateway: str = ""  # "host:port": the server also takes replies by mail there
    mail_kept_days: int = 30  # SENT and FAILED mails leave the outbox after these days
    # Background jobs (README "Background jobs", app/runner.py): whether a server process
    # runs them, how often it looks for due ones, how long a claim holds, how many at once
    jobs_enabled: bool = True
    jobs_poll_interval: float = 5.0  # seconds
    jobs_lease: float = 60.0  # seconds
    jobs_concurrency: int = 4
    jobs_shutdown_grace: float = 10.0  # seconds
    job_modules: tuple[str, ...] = ()  # more modules whose import registers job handlers
    # Operating it (README "Operating it"): /metrics behind this token, or on this port (0:
    # none); how many operation names beyond the registered ones get a label of their own;
    # log lines as JSON or text; resolver spans only for resolvers slower than this
    metrics_token: str = ""
    metrics_port: int = 0
    metrics_max_operations: int = 100
    log_format: str = "text"
    trace_resolvers_over_ms: int = 0  # 0: no resolver spans
    # Requests (README "Requests"): warn the assignee this many business minutes before an
    # SLA breach (0: no warning); remind the requester after these business days waiting
    sla_warning_minutes: int = 120
    needs_info_reminder_days: tuple[int, ...] = (1, 5)
    # Dashboard (README "Dashboard"): a customer's post on a project waits for an answer
    # after this many business hours without a staff reply
    unanswered_post_hours: int = 8
    # Webhooks (README "Webhooks"): private networks deliveries may go to (CIDR), and how
    # long an endpoint stays paused before it is disabled
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_disable_after: float = 3 * 86400.0  # seconds
    # KPIs (README "KPIs"): days the counts of reads, searches and active contacts are kept
    interactions_kept_days: int = 395
    # Suspicious activity (README "Suspicious activity"): each rule's threshold and window
    # (seconds); triggers of one rule and subject within security_coalesce_window coalesce
    security_new_network_days: int = 90  # a sign-in network unseen this long is new
    security_failed_sign_ins: int = 20  # failed sign-ins from one address, any accounts
    security_failed_sign_ins_window: int = 15 * 60
    security_probes: int = 10  # NOT_FOUND answers for IDs that exist in another tenant
    security_probes_window: int = 10 * 60
    security_downloads: int = 100  # files downloaded by one user
    security_downloads_window: int = 10 * 60
    security_coalesce_window: int = 86400
    # Retention (README "Retention"): days each class of data is kept (None: for ever); the
    # outbox follows mail_kept_days, interaction counts interactions_kept_days
    retention_events_days: int | None = 180
    retention_notifications_days: int | None = 365  # read ones; unread ones are kept
    retention_audit_days: int | None = None
    retention_webhook_deliveries_days: int | None = 30

    @property
    def signing_key_id(self) -> str:
        """The ``kid`` of the key that signs new tokens."""
        return key_id(self.secret_key)

    @property
    def verification_keys(self) -> dict[str, str]:
        """Every key a token may be signed with, by ``kid``: the signing key and the
        previous ones, kept while tokens they signed may still be in use."""
        keys = {key_id(key): key for key in self.previous_secret_keys}
        keys[self.signing_key_id] = self.secret_key
        return keys

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql(self) -> bool:
        return not self.is_production


def key_id(key: str) -> str:
    """A key's public name: derived from the key, so rotating needs no second setting."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _int_setting(
    env: Mapping[str, str], name: str, default: int, minimum: int, unit: str = "seconds"
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of {unit}, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _url_setting(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    url = env.get(name) or default
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name} must start with one of {allowed}; got {url.split(':')[0]!r}")
    return url


def _ws_init_timeout(env: Mapping[str, str]) -> int:
    seconds = _int_setting(env, "EXTRANET_WS_INIT_TIMEOUT", 10, 1)
    if seconds > 10:
        raise SettingsError("EXTRANET_WS_INIT_TIMEOUT must be at most 10 seconds")
    return seconds


def _operating_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """``EXTRANET_METRICS_TOKEN`` (at least 16 characters), ``EXTRANET_METRICS_PORT``,
    ``EXTRANET_METRICS_MAX_OPERATIONS``, ``EXTRANET_LOG_FORMAT`` (``json`` or ``text``;
    ``json`` by default in production) and ``EXTRANET_TRACE_RESOLVERS_OVER_MS`` (0: no
    resolver spans)."""
    token = env.get("EXTRANET_METRICS_TOKEN") or ""
    if token and len(token) < 16:
        raise SettingsError("EXTRANET_METRICS_TOKEN must be at least 16 characters")
    log_format = env.get("EXTRANET_LOG_FORMAT") or ("json" if production else "text")
    if log_format not in ("json", "text"):
        raise SettingsError("EXTRANET_LOG_FORMAT must be json or text")
    port = _int_setting(env, "EXTRANET_METRICS_PORT", 0, 0, unit="ports")
    if port > 65535:
        raise SettingsError("EXTRANET_METRICS_PORT must be a port number (at most 65535)")
    return {
        "metrics_token": token,
        "metrics_port": port,
        "metrics_max_operations": _int_setting(
            env, "EXTRANET_METRICS_MAX_OPERATIONS", 100, 0, unit="operations"
        ),
        "log_format": log_format,
        "trace_resolvers_over_ms": _int_setting(
            env, "EXTRANET_TRACE_RESOLVERS_OVER_MS", 0, 0, unit="milliseconds"
        ),
    }


def _namespace_setting(env: Mapping[str, str]) -> str:
    value = env.get("BROADCAST_NAMESPACE") or "extranet"
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value):
        raise SettingsError("BROADCAST_NAMESPACE may hold letters, digits and . _ : - (max 64)")
    return value


def _development_secret() -> str:
    """A per-checkout signing key kept under var/, so tokens survive restarts in development."""
    path = VAR_DIR / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the first bad variable."""
    env = os.environ if env is None else env
    environment = env.get("EXTRANET_ENV") or "development"
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"EXTRANET_ENV must be one of {', '.join(ENVIRONMENTS)}")
    production = environment == "production"

    default_db = f"sqlite://{VAR_DIR / 'extranet.sqlite3'}"
    if production and not env.get("DATABASE_URL"):
        raise SettingsError("DATABASE_URL is required when EXTRANET_ENV=production")
    database_url = _url_setting(env, "DATABASE_URL", default_db, DATABASE_SCHEMES)
    broadcast_url = _url_setting(env, "BROADCAST_URL", "memory://", BROADCAST_SCHEMES)

    secret_key = env.get("EXTRANET_SECRET_KEY") or ""
    if not secret_key:
        if production:
            raise SettingsError("EXTRANET_SECRET_KEY is required when EXTRANET_ENV=production")
        secret_key = _development_secret()
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"EXTRANET_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")

    previous = tuple(
        k.strip() for k in (env.get("EXTRANET_PREVIOUS_SECRET_KEYS") or "").split(",") if k.strip()
    )
    if any(len(k) < MIN_SECRET_LENGTH for k in previous):
        raise SettingsError(
            "EXTRANET_PREVIOUS_SECRET_KEYS is a comma-separated list of keys of at least "
            f"{MIN_SECRET_LENGTH} characters each"
        )

    return Settings(
        environment=environment,
        database_url=database_url,
        broadcast_url=broadcast_url,
        broadcast_namespace=_namespace_setting(env),
        secret_key=secret_key,
        token_issuer=env.get("EXTRANET_TOKEN_ISSUER") or "extranet",
        token_audience=env.get("EXTRANET_TOKEN_AUDIENCE") or "extranet-api",
        access_token_ttl=_int_setting(env, "EXTRANET_ACCESS_TOKEN_TTL", 900, 30),
        refresh_token_ttl=_int_setting(env, "EXTRANET_REFRESH_TOKEN_TTL", 30 * 86400, 300),
        ws_init_timeout=_ws_init_timeout(env),
        attachments_dir=Path(env.get("EXTRANET_ATTACHMENTS_DIR") or VAR_DIR / "attachments"),
        attachment_max_bytes=_int_setting(
            env, "EXTRANET_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, 1, unit="bytes"
        ),
        query_limits=_query_limits(env, production),
        ws_allowed_origins=_origins(env),
        cors_allowed_origins=_cors_origins(env),
        ws_max_subscriptions=_int_setting(
            env, "EXTRANET_WS_MAX_SUBSCRIPTIONS", 50, 1, unit="subscriptions"
        ),
        ws_max_connections_per_user=_int_setting(
            env, "EXTRANET_WS_MAX_CONNECTIONS_PER_USER", 20, 1, unit="connections"
        ),
        ws_per_message_deflate=_on_off(env, "EXTRANET_WS_PER_MESSAGE_DEFLATE", "off"),
        previous_secret_keys=previous,
        mfa_issuer=(env.get("EXTRANET_MFA_ISSUER") or "Extranet").strip()[:64] or "Extranet",
        persisted_queries=_persisted_queries(env),
        persisted_query_cache_size=_int_setting(
            env, "EXTRANET_PERSISTED_QUERY_CACHE_SIZE", 1000, 1, unit="documents"
        ),
        max_body_bytes=_int_setting(
            env, "EXTRANET_MAX_BODY_BYTES", 5 * 512 * 1024, 1024, unit="bytes"
        ),
        trusted_proxies=_trusted_proxies(env),
        **_operating_settings(env, production),
        attachment_uploads_per_minute=_int_setting(
            env, "EXTRANET_ATTACHMENT_UPLOADS_PER_MINUTE", 30, 1, unit="uploads"
        ),
        attachment_user_quota_bytes=_int_setting(
            env, "EXTRANET_ATTACHMENT_USER_QUOTA_BYTES", 2 * 1024**3, 1, unit="bytes"
        ),
        attachment_customer_quota_bytes=_int_setting(
            env, "EXTRANET_ATTACHMENT_CUSTOMER_QUOTA_BYTES", 20 * 1024**3, 1, unit="bytes"
        ),
        **_mail_settings(env, production),
        mail_gateway=_mail_gateway_setting(env),
        **_job_settings(env),
        **_request_settings(env),
        **_webhook_settings(env),
        interactions_kept_days=_int_setting(
            env, "EXTRANET_INTERACTIONS_KEPT_DAYS", 395, 1, unit="days"
        ),
        **_security_settings(env),
        **_retention_settings(env),
    )


def _security_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The thresholds of the suspicious-activity rules: ``EXTRANET_SECURITY_NEW_NETWORK_DAYS``,
    ``EXTRANET_SECURITY_FAILED_SIGN_INS``, ``EXTRANET_SECURITY_PROBES`` and
    ``EXTRANET_SECURITY_DOWNLOADS`` (counts), each with its ``..._WINDOW`` (seconds), and
    ``EXTRANET_SECURITY_COALESCE_WINDOW`` (seconds)."""
    values: dict[str, Any] = {
        "security_new_network_days": _int_setting(
            env, "EXTRANET_SECURITY_NEW_NETWORK_DAYS", 90, 1, unit="days"
        ),
        "security_coalesce_window": _int_setting(
            env, "EXTRANET_SECURITY_COALESCE_WINDOW", 86400, 60
        ),
    }
    for name, count, window in (
        ("failed_sign_ins", 20, 15 * 60),
        ("probes", 10, 10 * 60),
        ("downloads", 100, 10 * 60),
    ):
        variable = f"EXTRANET_SECURITY_{name.upper()}"
        values[f"security_{name}"] = _int_setting(env, variable, count, 1, unit="events")
        values[f"security_{name}_window"] = _int_setting(env, f"{variable}_WINDOW", window, 1)
    return values


RETENTION_DEFAULTS = {"events": 180, "notifications": 365, "audit": None, "webhook_deliveries": 30}
"""Days each class of data with a ``retention_*_days`` setting is kept by default (None: for
ever)."""


def _retention_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """``EXTRANET_RETENTION_<CLASS>_DAYS`` for each of :data:`RETENTION_DEFAULTS`: a whole
    number of days (at least 1), or ``forever``."""
    values: dict[str, Any] = {}
    for data_class, default in RETENTION_DEFAULTS.items():
        name = f"EXTRANET_RETENTION_{data_class.upper()}_DAYS"
        raw = (env.get(name) or "").strip().lower()
        if raw == "forever":
            values[f"retention_{data_class}_days"] = None
        elif raw:
            values[f"retention_{data_class}_days"] = _int_setting(env, name, 1, 1, unit="days")
        else:
            values[f"retention_{data_class}_days"] = default
    return values


def _webhook_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """``EXTRANET_WEBHOOK_ALLOW_NETWORKS`` (comma-separated CIDR networks that webhook
    deliveries may reach although they are not public, such as ``10.20.0.0/16``) and
    ``EXTRANET_WEBHOOK_DISABLE_AFTER`` (seconds an endpoint stays paused before it is
    disabled; 3 days by default)."""
    raw = (env.get("EXTRANET_WEBHOOK_ALLOW_NETWORKS") or "").split(",")
    networks = tuple(n.strip() for n in raw if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(
                "EXTRANET_WEBHOOK_ALLOW_NETWORKS is a comma-separated list of networks such "
                f"as 10.20.0.0/16 or 127.0.0.1/32; got {network!r}"
            ) from None
    return {
        "webhook_allow_networks": networks,
        "webhook_disable_after": _seconds_setting(
            env, "EXTRANET_WEBHOOK_DISABLE_AFTER", 3 * 86400.0, 60.0
        ),
    }


def _request_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """``EXTRANET_SLA_WARNING_MINUTES`` (business minutes, 0: no warnings),
    ``EXTRANET_NEEDS_INFO_REMINDER_DAYS`` (comma-separated business days, ``none``: no
    reminders) and ``EXTRANET_UNANSWERED_POST_HOURS`` (business hours, at least 1)."""
    raw = (env.get("EXTRANET_NEEDS_INFO_REMINDER_DAYS") or "1,5").strip().lower()
    days: set[int] = set()
    for item in [] if raw == "none" else raw.split(","):
        if not item.strip().isdigit() or not 1 <= int(item) <= 365:
            raise SettingsError(
                "EXTRANET_NEEDS_INFO_REMINDER_DAYS lists business days from 1 to 365 "
                f"(like 1,5) or is none; got {raw!r}"
            )
        days.add(int(item))
    return {
        "sla_warning_minutes": _int_setting(
            env, "EXTRANET_SLA_WARNING_MINUTES", 120, 0, unit="business minutes"
        ),
        "needs_info_reminder_days": tuple(sorted(days)),
        "unanswered_post_hours": _int_setting(
            env, "EXTRANET_UNANSWERED_POST_HOURS", 8, 1, unit="business hours"
        ),
    }


def _seconds_setting(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not minimum <= value < 10**6:
        raise SettingsError(f"{name} must be at least {minimum} seconds, got {raw}")
    return value


def _on_off(env: Mapping[str, str], name: str, default: str) -> bool:
    """A switch: ``on`` or ``off`` (any case); SettingsError naming ``name`` otherwise."""
    switch = (env.get(name) or default).strip().lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"{name} must be on or off; got {switch!r}")
    return switch == "on"


def _job_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """``EXTRANET_JOBS`` (``on``; ``off``: this server process runs no background jobs, an
    ``extranet worker`` does), ``EXTRANET_JOBS_POLL_INTERVAL``, ``EXTRANET_JOBS_LEASE``,
    ``EXTRANET_JOBS_SHUTDOWN_GRACE`` (seconds, decimals allowed),
    ``EXTRANET_JOBS_CONCURRENCY`` and ``EXTRANET_JOB_MODULES`` (comma-separated modules
    whose import registers more job handlers)."""
    switch = (env.get("EXTRANET_JOBS") or "on").strip().lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"EXTRANET_JOBS must be on or off; got {switch!r}")
    modules = tuple(m.strip() for m in (env.get("EXTRANET_JOB_MODULES") or "").split(","))
    for module in modules:
        if module and not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", module
        ):
            raise SettingsError(
                f"EXTRANET_JOB_MODULES is a comma-separated list of module names; got {module!r}"
            )
    return {
        "jobs_enabled": switch == "on",
        "jobs_poll_interval": _seconds_setting(env, "EXTRANET_JOBS_POLL_INTERVAL", 5.0, 0.05),
        "jobs_lease": _seconds_setting(env, "EXTRANET_JOBS_LEASE", 60.0, 1.0),
        "jobs_concurrency": _int_setting(env, "EXTRANET_JOBS_CONCURRENCY", 4, 1, unit="jobs"),
        "jobs_shutdown_grace": _seconds_setting(env, "EXTRANET_JOBS_SHUTDOWN_GRACE", 10.0, 0.0),
        "job_modules": tuple(m for m in modules if m),
    }


MAIL_SCHEMES = ("smtp", "smtps", "maildir")


def _mail_gateway_setting(env: Mapping[str, str]) -> str:
    """``EXTRANET_MAIL_GATEWAY=127.0.0.1:2525``: where each server process also takes replies
    to notification mail (README "Replies by mail"); empty (the default): nowhere."""
    value = (env.get("EXTRANET_MAIL_GATEWAY") or "").strip()
    host, _, port = value.rpartition(":")
    if value and not (host and port.isdigit() and 0 < int(port) < 65536):
        raise SettingsError(
            f"EXTRANET_MAIL_GATEWAY is host:port, such as 127.0.0.1:2525; got {value!r}"
        )
    return value


def _mail_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """``EXTRANET_MAIL`` (``on``, or ``off`` to send nothing), ``EXTRANET_SMTP_URL``
    (``smtp://user:password@host:587`` uses STARTTLS, ``smtps://host:465`` TLS from the
    start, ``maildir:///path`` writes files; by default a Maildir under var/mail),
    ``EXTRANET_MAIL_FROM``, ``EXTRANET_PUBLIC_URL`` and ``EXTRANET_SMTP_TIMEOUT``. In
    production mail needs an SMTP server, a sender and the public URL, or ``EXTRANET_MAIL=off``."""
    switch = (env.get("EXTRANET_MAIL") or "on").strip().lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"EXTRANET_MAIL must be on or off; got {switch!r}")
    enabled = switch == "on"
    url = (env.get("EXTRANET_SMTP_URL") or "").strip()
    if production and enabled:
        if urlsplit(url).scheme not in ("smtp", "smtps"):
            raise SettingsError(
                "EXTRANET_SMTP_URL (smtp:// or smtps://) is required when "
                "EXTRANET_ENV=production (or switch mail off with EXTRANET_MAIL=off)"
            )
        for name in ("EXTRANET_MAIL_FROM", "EXTRANET_PUBLIC_URL"):
            if not (env.get(name) or "").strip():
                raise SettingsError(
                    f"{name} is required when EXTRANET_ENV=production "
                    "(or switch mail off with EXTRANET_MAIL=off)"
                )
    smtp_url = _url_setting(env, "EXTRANET_SMTP_URL", f"maildir://{VAR_DIR / 'mail'}", MAIL_SCHEMES)
    parts = urlsplit(smtp_url)
    if parts.scheme == "maildir" and (parts.netloc or not parts.path.startswith("/")):
        raise SettingsError("EXTRANET_SMTP_URL=maildir:// takes an absolute path: maildir:///path")
    if parts.scheme != "maildir" and not parts.hostname:
        raise SettingsError(f"EXTRANET_SMTP_URL must name a host: {parts.scheme}://host:port")
    mail_from = (env.get("EXTRANET_MAIL_FROM") or "Extranet <extranet@localhost>").strip()
    if not re.fullmatch(r"[^\r\n<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+", mail_from):
        raise SettingsError(
            "EXTRANET_MAIL_FROM is an address (extranet@example.com) or a name and an "
            f"address (Extranet <extranet@example.com>); got {mail_from!r}"
        )
    public_url = (env.get("EXTRANET_PUBLIC_URL") or "http://127.0.0.1:8000").strip().rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\[\]:-]+(/[^\s?#]*)?", public_url):
        raise SettingsError(
            "EXTRANET_PUBLIC_URL is the address people open the extranet at, such as "
            f"https://extranet.example.com; got {public_url!r}"
        )
    if production and enabled and not public_url.startswith("https://"):
        raise SettingsError(  # links in mail, and RFC 8058 one-click unsubscribe, need HTTPS
            f"EXTRANET_PUBLIC_URL must be an https:// address in production; got {public_url!r}"
        )
    return {
        "mail_enabled": enabled,
        "smtp_url": smtp_url,
        "mail_from": mail_from,
        "public_url": public_url,
        "smtp_timeout": _int_setting(env, "EXTRANET_SMTP_TIMEOUT", 30, 1),
        "mail_kept_days": _int_setting(env, "EXTRANET_MAIL_KEPT_DAYS", 30, 1),
    }


PERSISTED_QUERY_MODES = ("automatic", "registered")


def _persisted_queries(env: Mapping[str, str]) -> str:
    """``automatic``: any document, and Apollo's automatic persisted queries; ``registered``:
    only the documents of clients/operations and those an administrator registered."""
    mode = (env.get("EXTRANET_PERSISTED_QUERIES") or "automatic").strip().lower()
    if mode not in PERSISTED_QUERY_MODES:
        raise SettingsError(
            f"EXTRANET_PERSISTED_QUERIES must be one of {', '.join(PERSISTED_QUERY_MODES)}; "
            f"got {mode!r}"
        )
    return mode


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """The load balancers' addresses (``10.0.0.5``) or networks (``10.0.0.0/24``): only a
    connection from one of them may name the client in ``X-Forwarded-For``. Without any,
    the client is the connection's peer; there is no "trust everyone"."""
    raw = (env.get("EXTRANET_TRUSTED_PROXIES") or "").split(",")
    proxies = tuple(p.strip() for p in raw if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                "EXTRANET_TRUSTED_PROXIES is a comma-separated list of IP addresses or "
                f"networks such as 10.0.0.5 or 10.0.0.0/24; got {proxy!r}"
            ) from None
    return proxies


def _origins(env: Mapping[str, str], name: str = "EXTRANET_WS_ALLOWED_ORIGINS") -> tuple[str, ...]:
    """Other sites whose pages may open websockets here (same-origin pages and clients
    that send no Origin, such as apps and scripts, always may)."""
    origins = tuple(o.strip() for o in (env.get(name) or "").split(","))
    for origin in origins:
        if origin and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?", origin):
            raise SettingsError(
                f"{name} is a comma-separated list of origins such as "
                f"https://portal.example.com; got {origin!r}"
            )
    return tuple(o for o in origins if o)


def _cors_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """Other sites whose pages may call the HTTP API (CORS): EXTRANET_CORS_ALLOWED_ORIGINS,
    by default the sites that may open websockets (EXTRANET_WS_ALLOWED_ORIGINS)."""
    if env.get("EXTRANET_CORS_ALLOWED_ORIGINS") is None:
        return _origins(env)
    return _origins(env, "EXTRANET_CORS_ALLOWED_ORIGINS")


def _query_limits(env: Mapping[str, str], production: bool) -> QueryLimits:
    default = QueryLimits()

    def limit(name: str, value: int, unit: str) -> int:
        return _int_setting(env, name, value, 1, unit=unit)

    return QueryLimits(
        max_depth=limit("EXTRANET_MAX_QUERY_DEPTH", default.max_depth, "levels"),
        max_aliases=limit("EXTRANET_MAX_ALIASES", default.max_aliases, "aliases"),
        max_tokens=limit("EXTRANET_MAX_TOKENS", default.max_tokens, "tokens"),
        max_document_bytes=limit(
            "EXTRANET_MAX_DOCUMENT_BYTES", default.max_document_bytes, "bytes"
        ),
        max_directives=limit("EXTRANET_MAX_DIRECTIVES", default.max_directives, "directives"),
        max_cost=limit("EXTRANET_MAX_QUERY_COST", default.max_cost, "cost units"),
        production=production,
    )
