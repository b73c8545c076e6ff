"""The recovery tracker on any date (issue 10 §2): contacts dated as of the day they happened, promise
statuses as of a date (never the future written into the past), receipts cancelled after keeping a
promise, follow-ups on the worklist, and the collector by login.

Every date is relative to ``clock.today()``, so these pass on any frozen clock (CI re-runs them late
at night at a fiscal-year end)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dues import clock

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def day(n: int) -> date:
    """n days from today (negative: ago)."""
    return clock.today() + timedelta(days=n)


@pytest.fixture
def books(company, make_customer, post):
    """C001 owes INV-1 1,00,000 and INV-2 50,000, both 20 days overdue; C002 INV-3 10,000, 5 days overdue."""
    from types import SimpleNamespace

    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", collector="Pooja Shah")
    zen = make_customer("C002", name="Zenith Polymers", collector="Meena")
    post("invoice", "INV-1", acme, day(-50), "100000", due_date=day(-20))
    post("invoice", "INV-2", acme, day(-50), "50000", due_date=day(-20))
    post("invoice", "INV-3", zen, day(-35), "10000", due_date=day(-5))
    return SimpleNamespace(acme=acme, zen=zen)


def entry(company, code, on=None, **kw):
    from dues.collections.selectors import worklist

    found = {e.facts.code: e for e in worklist(company, on=on or clock.today(), **kw)}
    return found.get(code)


# --- contacts are dated the day they happened -----------------------------------------------------------------


def test_a_call_logged_the_day_after_is_a_contact_on_the_day_of_the_call(company, books):
    from dues.collections.services.activities import activity_log

    a = activity_log(customer=books.acme, kind="visit", outcome="reached", notes="met the CFO", on=day(-1),
                     actor="test")
    assert a.on == day(-1) and a.recorded_later
    e = entry(company, "C001")
    assert e.facts.last_contact == day(-1) and "last contact 1 days ago: +2" in e.reasons
    # looking back at yesterday's worklist, the visit is there too (it was recorded today)
    assert entry(company, "C001", on=day(-1)).facts.last_contact == day(-1)
    assert entry(company, "C001", on=day(-2)).facts.last_contact is None


def test_promise_and_dispute_as_of_a_date_are_contacts_on_that_date(company, books):
    from dues.collections.models import Activity
    from dues.collections.services.disputes import dispute_open
    from dues.collections.services.promises import promise_add

    promise_add(customer=books.acme, amount="50000", promised_date=day(2), invoices=["INV-2"], taken_on=day(-6),
                actor="test")
    assert Activity.objects.get(outcome="promised").on == day(-6)
    assert entry(company, "C001", on=day(-4)).facts.last_contact == day(-6)
    assert entry(company, "C001").facts.last_contact == day(-6)

    dispute_open(company=company, invoice="INV-3", amount="1000", reason="damaged", owner="dispatch",
                 opened_on=day(-3), actor="test")
    assert Activity.objects.get(outcome="disputed").on == day(-3)
    assert entry(company, "C002").facts.last_contact == day(-3)
    assert entry(company, "C002", on=day(-4)).facts.last_contact is None


def test_contacts_in_the_future_are_refused(company, books):
    from dues.collections.models import Activity, Dispute, PromiseToPay
    from dues.collections.services.activities import activity_log
    from dues.collections.services.disputes import dispute_open
    from dues.collections.services.promises import promise_add
    from dues.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        activity_log(customer=books.acme, kind="call", outcome="reached", on=day(1), actor="test")
    assert [p.field for p in err.value.problems] == ["on"] and "in the future" in str(err.value)
    with pytest.raises(ValidationFailed):
        promise_add(customer=books.acme, amount="1", promised_date=day(3), taken_on=day(1), actor="test")
    with pytest.raises(ValidationFailed):
        dispute_open(company=company, invoice="INV-1", amount="1", reason="tax", owner="finance", opened_on=day(1),
                     actor="test")
    assert not (Activity.objects.exists() or PromiseToPay.objects.exists() or Dispute.objects.exists())


def test_the_timeline_places_each_event_on_its_own_day(company, books):
    from dues.collections.selectors import timeline, timeline_objects
    from dues.collections.services.activities import activity_log
    from dues.collections.services.disputes import dispute_open
    from dues.collections.services.promises import promise_add

    today_call = activity_log(customer=books.acme, kind="call", outcome="no_answer", actor="test")
    p = promise_add(customer=books.acme, amount="1000", promised_date=day(1), taken_on=day(-5), actor="test")
    d = dispute_open(company=company, invoice="INV-1", amount="10", reason="tax", owner="finance",
                     opened_on=day(-8), actor="test")
    late_visit = activity_log(customer=books.acme, kind="visit", outcome="reached", on=day(-2), actor="test")
    rows = list(timeline(company, books.acme))
    assert [r[2] for r in rows] == [day(0), day(-2), day(-5), day(-5), day(-8), day(-8)]
    events = [(t, o.pk) for t, o in timeline_objects(rows)]
    assert events[:2] == [("activity", today_call.pk), ("activity", late_visit.pk)]  # recorded last, called before
    assert set(events[2:4]) == {("promise", p.pk), ("activity", p.activity_id)}
    assert set(events[4:]) == {("dispute", d.pk), ("activity", d.customer.activities.get(outcome="disputed").pk)}


# --- promise statuses as of a date -------------------------------------------------------------------------------


def stored(p):
    p.refresh_from_db()
    return p.status, p.received, p.settled_on


def test_looking_ahead_does_not_write_the_future_into_the_past(company, books):
    from dues.collections.selectors import worklist
    from dues.collections.services.promises import promise_add, promises_refresh

    p = promise_add(customer=books.acme, amount="50000", promised_date=day(1), invoices=["INV-2"], taken_on=day(-2),
                    grace_days=1, actor="test")  # deadline tomorrow + 1
    ahead = worklist(company, on=day(5))
    assert ahead[0].facts.code == "C001" and ahead[0].reasons[0].startswith("broken promise")
    assert promises_refresh(company, on=day(5), actor="test") == 0  # a look ahead writes nothing
    assert stored(p) == ("open", Decimal(0), None)
    assert promises_refresh(company, actor="test") == 0  # today it is still open
    assert stored(p) == ("open", Decimal(0), None)
    today = {e.facts.code: e for e in worklist(company, on=day(0))}
    assert today["C001"].facts.broken_promises == 0
    assert [e.facts.code for e in worklist(company, on=day(1))][:1] == ["C001"]  # due tomorrow
    assert "promise of 50,000.00 due today: +300" in worklist(company, on=day(1))[0].reasons


def test_a_bounced_cheque_reopens_the_promise_or_breaks_it_after_the_deadline(company, books, post):
    from dues.collections.selectors import promise_judgements
    from dues.collections.services.promises import promise_add, promises_refresh
    from dues.ledger.services import document_cancel

    kept_then_open = promise_add(customer=books.acme, amount="100000", promised_date=day(2), invoices=["INV-1"],
                                 taken_on=day(-3), actor="test")
    kept_then_broken = promise_add(customer=books.zen, amount="10000", promised_date=day(-8), taken_on=day(-12),
                                   grace_days=2, actor="test")  # on account, deadline 6 days ago
    cheque = post("receipt", "RCT-1", books.acme, day(-1), "100000", mode="cheque", reference="CHQ1",
                  allocations=[("INV-1", Decimal("100000"))])
    other = post("receipt", "RCT-2", books.zen, day(-9), "10000", mode="cheque", reference="CHQ2")
    assert promises_refresh(company, actor="test") == 2
    assert stored(kept_then_open) == ("kept", Decimal("100000"), day(-1))
    assert stored(kept_then_broken) == ("kept", Decimal("10000"), day(-9))

    document_cancel(document=cheque, on=day(0), reason="cheque returned unpaid", actor="test")
    document_cancel(document=other, on=day(0), reason="cheque returned unpaid", actor="test")
    assert promises_refresh(company, actor="test") == 2
    assert stored(kept_then_open) == ("open", Decimal(0), None)
    assert stored(kept_then_broken) == ("broken", Decimal(0), day(-5))
    # yesterday they were kept, and still are when looked at as of yesterday
    judged = promise_judgements([kept_then_open, kept_then_broken], day(-1))
    assert [(j.status, j.settled_on) for j in judged.values()] == [("kept", day(-1)), ("kept", day(-9))]


def test_an_allocation_from_before_the_promise_undone_after_it_is_no_integrity_error(company, books, post):
    from dues.collections.services.promises import promise_add, promises_refresh
    from dues.ledger.models import Allocation
    from dues.ledger.services import allocation_reverse

    post("receipt", "RCT-1", books.acme, day(-10), "30000", mode="neft", reference="UTR1",
         allocations=[("INV-1", Decimal("30000"))])
    p = promise_add(customer=books.acme, amount="100000", promised_date=day(3), invoices=["INV-1"],
                    taken_on=day(-5), actor="test")
    allocation_reverse(allocation=Allocation.objects.get(), on=day(-2), reason="belongs to INV-2", actor="test")
    assert promises_refresh(company, actor="test") == 0  # the reversal nets nothing counted: still open, 0
    assert stored(p) == ("open", Decimal(0), None)


# --- follow-ups ----------------------------------------------------------------------------------------------------


def test_a_follow_up_brings_the_customer_onto_that_days_worklist_first(company, books, make_customer):
    from dues.collections.services.activities import activity_log
    from dues.collections.services.promises import promise_add

    orb = make_customer("C003", name="Orbit Tools", collector="Meena")  # owes nothing
    activity_log(customer=orb, kind="call", outcome="reached", notes="send the revised PO", on=day(-3),
                 next_follow_up=day(0), actor="test")
    activity_log(customer=books.zen, kind="email", outcome="no_answer", on=day(-4), next_follow_up=day(-2),
                 actor="test")
    # a promise's own follow-up (its promised date) is the "promise due" reason, not a second one
    promise_add(customer=books.acme, amount="1000", promised_date=day(0), taken_on=day(-1), actor="test")

    from dues.collections.selectors import worklist

    entries = worklist(company, on=day(0))
    # the follow-ups first (C002's missed one and its overdue invoice ahead of C003's), then C001
    assert [e.facts.code for e in entries] == ["C002", "C003", "C001"]
    e2, e3, e1 = entries
    assert e3.reasons[0] == f"follow-up due today (call on {day(-3).isoformat()}: send the revised PO): +2500"
    assert e3.facts.follow_up == day(0) and e3.as_json()["follow_up"] == day(0).isoformat()
    assert e2.reasons[0] == f"follow-up due {day(-2).isoformat()}, 2 days ago (email on {day(-4).isoformat()}): +2500"
    assert not any("follow-up" in r for r in e1.reasons) and "promise of 1,000.00 due today: +300" in e1.reasons
    # the day before, C003's follow-up was not due and it owed nothing: not on the list
    assert "C003" not in [e.facts.code for e in worklist(company, on=day(-1))]

    # the collector calls C003 back: followed up, off the list; C002's missed one stays until a contact
    activity_log(customer=orb, kind="call", outcome="reached", actor="test")
    assert [e.facts.code for e in worklist(company, on=day(0))] == ["C002", "C001"]
    # looking back at today's list from tomorrow: C003 was called back today, nothing is due
    assert "C003" not in [e.facts.code for e in worklist(company, on=day(1))]


# --- the collector by login ----------------------------------------------------------------------------------------


def test_the_worklist_takes_the_collectors_login_or_name_and_refuses_an_unknown_one(company, books):
    from django.contrib.auth import get_user_model

    from dues.collections.selectors import worklist
    from dues.core.errors import DuesError
    from dues.users.models import UserRole

    pooja = get_user_model().objects.create_user("pooja", password="x-long-pass-1")
    UserRole.objects.create(user=pooja, role="collector", person_name="Pooja Shah")
    ravi = get_user_model().objects.create_user("ravi", password="x-long-pass-1")
    UserRole.objects.create(user=ravi, role="collector", person_name="Ravi")

    assert [e.facts.code for e in worklist(company, collector="pooja")] == ["C001"]
    assert [e.facts.code for e in worklist(company, collector="Pooja Shah")] == ["C001"]
    assert [e.facts.code for e in worklist(company, collector="meena")] == ["C002"]
    assert worklist(company, collector="ravi") == []  # a collector with nobody to chase
    with pytest.raises(DuesError, match="no collector 'Nobody'"):
        worklist(company, collector="Nobody")
