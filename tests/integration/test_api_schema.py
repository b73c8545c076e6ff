"""Property-based fuzzing of the API against its own OpenAPI document (schemathesis, in-process over WSGI):
no answer is a server error, and every answer has a documented status, content type and shape.

Bounded: a few examples per operation (well under a minute), derandomized so a failure reproduces.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from . import api_fixtures

api_book = api_fixtures.api_book  # the fixture

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_answers_every_generated_request_as_documented(api_book):
    """Every operation of the document, a few generated requests each, as the admin (every write allowed)
    and as sales (only their own customers, no writes)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from dues.wsgi import application

    # as Django's test client does: the in-process requests share the test's connection (and transaction)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _fuzz(application, api_book)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(application, api_book) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    headers = [{"Authorization": f"Bearer {api_book['tokens'][role]}"} for role in ("admin", "sales")]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            for h in headers:
                case.call_and_validate(headers=h, checks=CHECKS)

        answers_as_documented()
