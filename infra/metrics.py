"""The process's Prometheus metrics (prometheus-client), served by app/metrics.py.

They live in prometheus-client's default registry, as that library intends: each one is a
counter, gauge or histogram that the code at one central place increments (a few
nanoseconds, no I/O). With several server processes (``extranet serve --workers N``, or
``PROMETHEUS_MULTIPROC_DIR`` set before start) every process writes its values to files in
that directory and ``/metrics`` sums them over the live processes.

Labels are bounded: ``operation`` is a registered or admitted operation name, or one of
:data:`ANONYMOUS` and :data:`OTHER` (app/metrics.py ``OperationNames``); ``code`` is one
of the API's error codes; ``outcome`` and ``kind`` are fixed words.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ANONYMOUS = "_anonymous"  # an operation without a name
OTHER = "_other"  # a named operation beyond the bound

# Seconds: most operations take milliseconds; a slow search or export takes seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0)

OPERATIONS = Counter(
    "extranet_graphql_operations",
    "GraphQL operations executed, by operation name and transport (http, websocket)",
    ["operation", "transport"],
)
OPERATION_ERRORS = Counter(
    "extranet_graphql_errors",
    "Errors in GraphQL answers, by operation name and extensions.code",
    ["operation", "code"],
)
OPERATION_DURATION = Histogram(
    "extranet_graphql_duration_seconds",
    "Time to answer a GraphQL query or mutation, in seconds",
    ["operation"],
    buckets=DURATION_BUCKETS,
)
WEBSOCKETS_OPEN = Gauge(
    "extranet_websockets_open",
    "Websockets open and signed in",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "extranet_subscriptions_active",
    "Subscription operations running on open websockets",
    multiprocess_mode="livesum",
)
FANOUT_LAG = Histogram(
    "extranet_fanout_lag_seconds",
    "From an event's commit to its frame sent to a subscriber, in seconds",
    buckets=LAG_BUCKETS,
)
JOBS_QUEUE_DEPTH = Gauge(
    "extranet_jobs_queue_depth",
    "Background jobs due and not yet claimed (sampled)",
    multiprocess_mode="max",
)
JOBS_LAG = Histogram(
    "extranet_jobs_lag_seconds",
    "From a background job's due time to its start, in seconds",
    buckets=LAG_BUCKETS,
)
JOBS = Counter("extranet_jobs", "Background jobs run, by kind and outcome", ["kind", "outcome"])
MAILS = Counter(
    "extranet_mails", "Mail attempts, by outcome: sent, retried, failed (given up)", ["outcome"]
)
WEBHOOK_DELIVERIES = Counter(
    "extranet_webhook_deliveries", "Webhook delivery attempts, by outcome", ["outcome"]
)
LOGIN_FAILURES = Counter("extranet_login_failures", "Failed passwords or sign-in codes")
LOGIN_LOCKS = Counter(
    "extranet_login_locks", "Account and address pairs locked after too many failures"
)
DATABASE_POOL = Gauge(
    "extranet_database_pool_connections",
    "Database pool connections (PostgreSQL), by state: open, idle, max",
    ["state"],
    multiprocess_mode="livesum",
)
