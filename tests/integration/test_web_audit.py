"""The audit log viewer: who may read it, its filters, and the chain's verify result."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from dues import clock
from dues.audit.models import AuditRecord

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def login(client, role: str, name: str | None = None):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(name or role, password="pass-2025-desk")
    UserRole.objects.create(user=user, role=role, person_name="Ravi" if role == "sales" else "")
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def history(company, make_customer, post):
    from dues.customers.services import customer_update

    acme = make_customer("C001", name="Acme", salesperson="Ravi")
    make_customer("C002", name="Zenith")
    post("invoice", "INV-1", acme, "2025-04-01", "118000")
    customer_update(customer=acme, data={"collector": "Farhan"}, actor="meena")
    return acme


@pytest.mark.parametrize(("role", "status"), [("ar_manager", 200), ("auditor", 200), ("admin", 200),
                                               ("collector", 403), ("billing", 403), ("sales", 403)])
def test_who_may_read_the_audit_log(client, history, role, status):
    login(client, role)
    response = client.get("/audit/")
    assert response.status_code == status
    nav = text(client.get("/"))
    assert ('href="/audit/"' in nav) == (status == 200)
    if status == 403:
        assert "C001" not in text(response)
        assert client.post("/audit/").status_code == 403       # nor run the verify


def test_newest_first_with_before_and_after(client, history):
    login(client, "auditor")
    response = client.get("/audit/")
    lines = response.context["lines"]
    assert [ln.seq for ln in lines] == sorted((ln.seq for ln in lines), reverse=True)
    assert len(lines) == AuditRecord.objects.count()
    newest = lines[0]
    assert (newest.actor, newest.action, newest.object_type, newest.object_id) == ("meena", "update", "customer",
                                                                                   "C001")
    assert [(c.field, c.before, c.after) for c in newest.changes] == [("collector", "", "Farhan")]
    html = text(response)
    assert "Farhan" in html and 'href="/customers/C001/"' in html and 'href="/documents/invoice/INV-1/"' in html
    assert "1,18,000.00" in html  # the invoice's recorded state, grouped the Indian way


def test_filters_by_user_object_action_and_date(client, history):
    login(client, "ar_manager")
    by_user = client.get("/audit/?actor=meena").context["lines"]
    assert [(ln.actor, ln.object_id) for ln in by_user] == [("meena", "C001")]
    by_object = client.get("/audit/?object_type=customer&object_id=C001").context["lines"]
    assert [ln.action for ln in by_object] == ["update", "create"]
    by_action = client.get("/audit/?action=post").context["lines"]
    assert [(ln.object_type, ln.object_id) for ln in by_action] == [("invoice", "INV-1")]
    today = clock.today()
    assert len(client.get(f"/audit/?from={today}&to={today}").context["lines"]) == AuditRecord.objects.count()
    yesterday = today - timedelta(days=1)
    none = client.get(f"/audit/?to={yesterday}")
    assert none.context["lines"] == [] and "No record matches" in text(none)
    bad = client.get("/audit/?from=soon")
    assert bad.status_code == 200 and "“soon” is not a date" in text(bad)
    kept = text(client.get("/audit/?actor=test&page=1"))
    assert 'name="actor"' in kept and '<option value="test" selected>' in kept


def test_verify_now_reports_an_intact_chain(client, history):
    login(client, "auditor")
    response = client.post("/audit/?actor=meena")
    assert response.status_code == 200
    result = response.context["verify"]["result"]
    assert result.ok and result.records == AuditRecord.objects.count()
    assert f"all {result.records} records are intact" in text(response)
    assert len(response.context["lines"]) == 1  # the filters still apply


def test_verify_now_shows_a_broken_chain(client, history):
    seq = AuditRecord.objects.get(object_type="invoice", object_id="INV-1").seq
    before = AuditRecord.objects.count()
    with connection.cursor() as cursor:  # someone with database access drops the guard and rewrites history
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_record_no_update")
        else:
            cursor.execute("ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only")
        cursor.execute("UPDATE audit_record SET after_json = replace(after_json, '118000', '18000') WHERE seq = %s",
                       [seq])
    login(client, "ar_manager")
    response = client.post("/audit/")
    result = response.context["verify"]["result"]
    assert not result.ok and result.problem.seq == seq
    html = text(response)
    assert f"The chain is broken at record {seq}" in html and 'role="alert"' in html
    assert AuditRecord.objects.count() == before
    shown = text(client.get("/audit/?object_id=INV-1"))   # the viewer shows what the log now holds
    assert "18,000.00" in shown and "1,18,000.00" not in shown
