"""Health endpoints for a process manager, a load balancer or a container runtime (no login, like /login/).

``/healthz``  liveness: the process answers; touches nothing else (no database), so a slow database does not
              get the server restarted.
``/readyz``   readiness: the database answers, every migration is applied, and Redis answers where it is
              configured (``DUES_REDIS_URL`` for the cache, ``DUES_JOBS_QUEUE=redis://…`` for the jobs). 200
              with ``{"status": "ready", "checks": {...}}``, else 503 naming what failed.

Both are public: they tell nothing beyond "up" and which dependency is down (never a URL or a password).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_migrations_done = False  # once every migration is seen applied, this process stops re-reading the graph


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 while the process can answer a request."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_migrations() -> str:
    global _migrations_done
    if _migrations_done:
        return "ok"
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    missing = sorted(node for node in loader.graph.nodes if node not in loader.applied_migrations)
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return f"{len(missing)} migration(s) not applied (run dues init): {names}{more}"
    _migrations_done = True
    return "ok"


def _check_redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def readiness() -> dict[str, str]:
    """Each check's result: "ok" or what is wrong."""
    checks: dict[str, str] = {}
    try:
        checks["database"] = _check_database()
    except DatabaseError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            checks["migrations"] = _check_migrations()
        except DatabaseError as exc:
            checks["migrations"] = f"cannot be read: {type(exc).__name__}"
    else:
        checks["migrations"] = "not checked (no database)"
    redis_urls = {"redis": settings.REDIS_URL}
    from dues.jobs.engine import queue_url

    if queue_url().startswith(("redis://", "rediss://", "unix://")):
        redis_urls["jobs_queue"] = queue_url()
    for name, url in redis_urls.items():
        if not url:
            continue
        try:
            checks[name] = _check_redis(url)
        except Exception as exc:  # redis' own errors (connection, timeout, auth) have no common base we import
            checks[name] = f"unreachable: {type(exc).__name__}"
    return checks


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, its migrations and Redis (where configured) are all fine, else 503."""
    started = time.perf_counter()
    checks = readiness()
    failed = sorted(name for name, result in checks.items() if result != "ok")
    body = {"status": "not ready" if failed else "ready", "checks": checks, "failed": failed,
            "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse(body, status=503 if failed else 200)
