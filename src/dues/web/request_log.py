"""One log record per request (logger ``dues.request``), and the request id on every record logged meanwhile.

The request id is the client's ``X-Request-ID`` when it sends a sane one (a proxy's), else a new one; it is
sent back in the response's ``X-Request-ID``. Each finished request logs ``method path status duration_ms
user request_id`` at INFO: with ``DUES_LOG_FORMAT=json`` (settings.LOGGING) that is one JSON object per line on
stderr, the fields as keys. The query string is left out (it may carry a search or a token).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

logger = logging.getLogger("dues.request")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("dues_request_id", default="")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` (empty outside a request) on every record, for the formatters to show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            user = getattr(request, "user", None)
            username = user.get_username() if user is not None and user.is_authenticated else ""
            duration = round((time.perf_counter() - started) * 1000, 1)
            logger.info("%s %s %s %.1fms", request.method, request.path, status, duration,
                        extra={"request_id": request_id, "method": request.method, "path": request.path,
                               "status": status, "duration_ms": duration, "user": username})
            request_id_var.reset(token)
