"""DUES_PORTAL_IN_MESSAGES=1 puts a customer portal link into reminders and e-mailed statements (one link per
customer per run, resolving to that customer); off (the default), the messages are as they were."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from tests.integration.test_message_templates import Recorder

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = date(2026, 11, 30)
LINE = re.compile(r"See your account and pay online: http://127\.0\.0\.1:8000(/portal/([\w-]+)/)")


@pytest.fixture
def books(company, make_customer, post):
    """C001 with two invoices overdue on D (one reminder carrying both), C002 with one."""
    customers = {}
    for code, invoices in (("C001", 2), ("C002", 1)):
        c = make_customer(code, name=f"Customer {code}", email=f"{code.lower()}@example.com")
        for n in range(invoices):
            due = D - timedelta(days=1 + n)
            post("invoice", f"INV-{code}-{n}", c, due - timedelta(days=30), "11800.00", due_date=due)
        customers[code] = c
    return customers


def _resolves_to(body: str, customer) -> None:
    from dues.portal.links import link_for_token

    found = LINE.findall(body)
    assert len(found) == 1, body
    path, token = found[0]
    link = link_for_token(token)
    assert link is not None and link.customer_id == customer.pk
    page = Client().get(path)
    assert page.status_code == 200 and customer.name in page.content.decode()


def test_reminders_carry_one_working_link_per_customer(company, books, settings):
    from dues.collections.services.dunning import collect_run
    from dues.portal.models import PortalLink

    settings.DUES_PORTAL_IN_MESSAGES = True
    recorder = Recorder()
    collect_run(company=company, on=D, actor="test", transports={"email": recorder})
    for code, customer in books.items():
        (message,) = recorder.to(code)
        _resolves_to(message.body, customer)
    assert PortalLink.objects.count() == 2  # one a customer, not one a message


def test_off_by_default_no_link_and_none_issued(company, books, settings):
    from dues.collections.services.dunning import collect_run
    from dues.collections.services.outreach import message_send
    from dues.messaging.statements import statement_send
    from dues.portal.models import PortalLink

    assert settings.DUES_PORTAL_IN_MESSAGES is False
    recorder = Recorder()
    collect_run(company=company, on=D, actor="test", transports={"email": recorder})
    message_send(company=company, customer=books["C001"], template="statement", channel="email", actor="test",
                 transport=recorder)
    statement_send(recorder, company, books["C002"], D - timedelta(days=60), D, Decimal("11800.00"), b"%PDF",
                   actor="test")
    assert len(recorder.sent) == 4
    assert not any("portal" in m.body or "pay online" in m.body for m in recorder.sent)
    assert not PortalLink.objects.exists()


def test_statement_emails_carry_a_working_link(company, books, settings):
    from dues.collections.services.outreach import message_send
    from dues.messaging.statements import statement_send

    settings.DUES_PORTAL_IN_MESSAGES = True
    recorder = Recorder()
    statement_send(recorder, company, books["C002"], D - timedelta(days=60), D, Decimal("11800.00"), b"%PDF",
                   actor="test")
    (statement,) = recorder.to("C002")
    assert statement.attachments and "balance due" in statement.body
    _resolves_to(statement.body, books["C002"])
    # the statement template sent from the customer page or the collector's desk
    draft, _activity = message_send(company=company, customer=books["C001"], template="statement", channel="email",
                                    actor="test", transport=recorder)
    _resolves_to(draft.body, books["C001"])
