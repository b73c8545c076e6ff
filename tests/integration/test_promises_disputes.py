"""Promises to pay turning kept / partly kept / broken from the receipts, disputes, the flags that keep
both out of the dunning run, the worklist ranking, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = date(2026, 11, 30)


def days(n: int) -> date:
    return D + timedelta(days=n)


@pytest.fixture
def books(company, make_customer, post):
    """C001: INV-1 1,00,000 and INV-2 50,000 due 10 days before D; C002: INV-3 40,00,000 100 days overdue."""
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", email="accounts@acme.example", collector="Meena")
    zen = make_customer("C002", name="Zenith Polymers", email="ap@zenith.example", collector="Meena")
    orb = make_customer("C003", name="Orbit Tools", email="pay@orbit.example", collector="Arjun")
    post("invoice", "INV-1", acme, days(-40), "100000", due_date=days(-10))
    post("invoice", "INV-2", acme, days(-40), "50000", due_date=days(-10))
    post("invoice", "INV-3", zen, days(-130), "4000000", due_date=days(-100))
    post("invoice", "INV-4", orb, days(-50), "20000", due_date=days(-20))
    from types import SimpleNamespace

    return SimpleNamespace(acme=acme, zen=zen, orb=orb)


def promise(customer, amount, promised_in, invoices=(), taken=0, grace=3, actor="test"):
    from dues.collections.services.promises import promise_add

    return promise_add(customer=customer, amount=amount, promised_date=days(promised_in), invoices=invoices,
                       taken_on=days(taken), grace_days=grace, actor=actor)


def refresh(company):
    """Store today's statuses (D is in the past on the frozen clock: every ``days(n)`` below too)."""
    from dues.collections.services.promises import promises_refresh

    return promises_refresh(company, actor="test")


def receipt(post, number, customer, on, amount, allocations=(), **kw):
    return post("receipt", number, customer, days(on), amount, mode="neft", reference=f"UTR-{number}",
                allocations=[(n, Decimal(a)) for n, a in allocations], **kw)


def state(p):
    """The stored status (today's)."""
    p.refresh_from_db()
    return p.status, p.received, p.settled_on


def as_of(p, n):
    """(status, received, settled on) as of D + n days; the set-based SQL agrees with the judgement."""
    from dues.collections.selectors import promise_judgements, promises_as_of

    j = promise_judgements([p], days(n))[p.pk]
    row = promises_as_of(p.company, days(n)).get(pk=p.pk)
    assert (row.status_on, row.received_on) == (j.status, j.received)
    return j.status, j.received, j.settled_on


# --- promises -------------------------------------------------------------------------------------------------


def test_promise_kept_from_an_allocation_to_the_promised_invoice(company, books, post):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity

    p = promise(books.acme, "100000", 2, invoices=["INV-1"])
    assert p.deadline == days(5) and [d.number for d in p.invoices.all()] == ["INV-1"]
    act = Activity.objects.get(customer=books.acme)
    assert (act.outcome, act.next_follow_up, p.activity_id) == ("promised", days(2), act.id)
    assert AuditRecord.objects.filter(object_type="promise_to_pay", action="create").count() == 1

    receipt(post, "RCT-0", books.acme, -1, "30000", allocations=[("INV-2", "30000")])  # other invoice, before
    assert as_of(p, 0) == ("open", Decimal("0"), None)
    receipt(post, "RCT-1", books.acme, 1, "100000", allocations=[("INV-1", "100000")])
    assert as_of(p, 0) == ("open", Decimal("0"), None)
    assert as_of(p, 1) == ("kept", Decimal("100000"), days(1))
    assert as_of(p, 9) == ("kept", Decimal("100000"), days(1))
    assert state(p) == ("open", Decimal("0"), None)  # nothing stored until today's refresh
    assert refresh(company) == 1
    assert state(p) == ("kept", Decimal("100000"), days(1))
    assert AuditRecord.objects.filter(object_type="promise_to_pay", action="update").count() == 1
    assert refresh(company) == 0 and state(p)[0] == "kept"


def test_promise_partly_kept_within_grace_then_settles_after_the_deadline(company, books, post):
    p = promise(books.acme, "150000", 2, invoices=["INV-1", "INV-2"])
    receipt(post, "RCT-1", books.acme, 4, "40000", allocations=[("INV-1", "25000"), ("INV-2", "15000")])
    assert as_of(p, 4) == ("open", Decimal("40000"), None)  # inside the grace period: still open
    assert as_of(p, 5)[0] == "open"  # the deadline day itself still counts
    assert as_of(p, 6) == ("partly_kept", Decimal("40000"), days(6))


def test_promise_broken_when_the_money_comes_after_the_grace(company, books, post):
    p = promise(books.acme, "100000", 2, invoices=["INV-1"], grace=1)  # deadline D+3
    receipt(post, "RCT-1", books.acme, 4, "100000", allocations=[("INV-1", "100000")])
    assert as_of(p, 4) == ("broken", Decimal("0"), days(4))


def test_promise_on_account_counts_the_customers_receipts_after_it_was_taken(company, books, post):
    p = promise(books.acme, "60000", 3)  # no invoices: the account as a whole
    receipt(post, "RCT-0", books.acme, -2, "99999")  # before the promise: not counted
    receipt(post, "RCT-1", books.acme, 1, "54000", tds=Decimal("6000"))  # cash + TDS
    assert as_of(p, 1) == ("kept", Decimal("60000"), days(1))


def test_a_reversed_allocation_does_not_keep_a_promise(company, books, post):
    from dues.ledger.models import Allocation
    from dues.ledger.services import allocation_reverse

    p = promise(books.acme, "100000", 2, invoices=["INV-1"])
    receipt(post, "RCT-1", books.acme, 1, "100000", allocations=[("INV-1", "100000")])
    allocation_reverse(allocation=Allocation.objects.get(), on=days(1), reason="wrong customer", actor="test")
    assert as_of(p, 6) == ("broken", Decimal("0"), days(6))


def test_promise_validation(company, books):
    from dues.collections.models import PromiseToPay
    from dues.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        promise(books.acme, "-5", -1, invoices=["INV-3", "NOPE"])
    fields = sorted(p.field for p in err.value.problems)
    assert fields == ["amount", "invoices", "invoices", "promised_date"]  # INV-3 is another customer's
    assert not PromiseToPay.objects.exists()


# --- the dunning run leaves disputed and promised items out --------------------------------------------------


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    monkeypatch.delenv("DUES_SMS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "outbox"


def run(company, on):
    from dues.collections.services.dunning import collect_run

    return [a.as_json() for a in collect_run(company=company, on=on, actor="test").actions]


def test_disputed_and_promised_items_are_left_out_of_dunning(company, make_customer, post, outbox):
    from dues.collections.selectors import item_flags
    from dues.collections.services.disputes import dispute_open
    from dues.ledger.models import OpenItem

    acme = make_customer("C001", email="a@acme.example")
    zen = make_customer("C002", email="z@zen.example")
    for number, who in (("INV-1", acme), ("INV-2", acme), ("INV-3", zen)):
        post("invoice", number, who, days(-31), "10000", due_date=days(-1))
    # the whole invoice is disputed: nothing left to dun (a partial dispute holds back only its part:
    # tests/integration/test_disputed_ageing.py)
    dispute_open(company=company, invoice="INV-1", amount="10000", reason="damaged", owner="dispatch", actor="test",
                 opened_on=D)
    promise(zen, "10000", 2, invoices=["INV-3"], taken=-1)
    ids = {number: pk for pk, number in OpenItem.objects.values_list("id", "document__number")}
    assert item_flags(company, ids.values(), on=D) == ({ids["INV-1"]}, {ids["INV-3"]})

    actions = run(company, D)
    sent = [(a["customer"], a["items"]) for a in actions if a["status"] == "sent"]
    assert sent == [("C001", ["INV-2"])]
    skipped = sorted((a["customer"], a["items"], a["reason"]) for a in actions if a["status"] == "skipped")
    assert skipped == [("C001", ["INV-1"], "disputed item(s) left out"),
                       ("C002", ["INV-3"], "promised item(s) left out")]

    # the promise's deadline (D+5) passes unpaid: broken, so dunning moves on for INV-3
    refresh(company)
    assert item_flags(company, ids.values(), on=days(6)) == ({ids["INV-1"]}, set())
    later = run(company, days(6))
    assert [(a["customer"], a["step"], a["items"]) for a in later if a["status"] == "sent"] == [
        ("C001", "reminder-2", ["INV-2"]), ("C002", "reminder-2", ["INV-3"])]  # INV-1 still disputed


def test_an_expired_promise_no_longer_holds_dunning_even_before_the_refresh(company, books):
    from dues.collections.selectors import item_flags
    from dues.ledger.models import OpenItem

    promise(books.orb, "20000", 1)  # on account: covers all of C003's items
    inv4 = OpenItem.objects.get(document__number="INV-4").id
    assert item_flags(company, [inv4], on=days(4)) == (set(), {inv4})
    assert item_flags(company, [inv4], on=days(5)) == (set(), set())


# --- disputes ------------------------------------------------------------------------------------------------


def test_dispute_amount_is_at_most_the_residual_left_undisputed(company, books):
    from dues.collections.models import Dispute
    from dues.collections.services.disputes import dispute_open
    from dues.core.errors import ValidationFailed

    dispute_open(company=company, invoice="INV-1", amount="60000", reason="price", owner="sales", actor="test")
    with pytest.raises(ValidationFailed) as err:
        dispute_open(company=company, invoice="INV-1", amount="40000.01", reason="tax", owner="finance",
                     actor="test")
    assert "40000.00" in str(err.value)
    with pytest.raises(ValidationFailed) as err:
        dispute_open(company=company, invoice="INV-9", amount="1", reason="why", owner="nobody", actor="test")
    assert sorted(p.field for p in err.value.problems) == ["document", "owner", "reason"]
    assert Dispute.objects.count() == 1


def test_dispute_moves_along_and_is_resolved_by_a_credit_note(company, books, post):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity, Dispute
    from dues.collections.selectors import disputes, item_flags
    from dues.collections.services.disputes import dispute_open, dispute_resolve, dispute_update
    from dues.core.errors import DuesError, ValidationFailed
    from dues.ledger.models import OpenItem

    d = dispute_open(company=company, invoice="INV-2", amount="5000", reason="quantity", owner="dispatch",
                     sla_days=5, actor="test", opened_on=D, notes="10 cartons short")
    assert Activity.objects.filter(customer=books.acme, outcome="disputed").count() == 1
    dispute_update(dispute=d, status="in_progress", owner="sales", actor="test")
    inv2 = OpenItem.objects.get(document__number="INV-2").id
    assert item_flags(company, [inv2])[0] == {inv2}  # in progress: still disputed

    post("credit_note", "CN-9", books.zen, days(1), "5000")
    with pytest.raises(ValidationFailed):  # another customer's note
        dispute_resolve(dispute=d, credit_note="CN-9", actor="test")
    with pytest.raises(ValidationFailed):  # neither a note nor a rejection
        dispute_resolve(dispute=d, actor="test")
    note = post("credit_note", "CN-1", books.acme, days(2), "5000", allocations=[("INV-2", Decimal("5000"))])
    dispute_resolve(dispute=d, credit_note="CN-1", actor="test", on=days(2))
    d.refresh_from_db()
    assert (d.status, d.credit_note_id, d.resolved_on, d.owner) == ("resolved_credit_note", note.id, days(2), "sales")
    assert list(note.resolved_disputes.all()) == [d]
    assert item_flags(company, [inv2]) == (set(), set())
    assert list(disputes(company, "active")) == []
    assert list(disputes(company, "resolved_credit_note")) == [d]
    with pytest.raises(DuesError, match="already closed"):
        dispute_resolve(dispute=d, rejected=True, actor="test")
    trail = list(AuditRecord.objects.filter(object_type="dispute").order_by("seq").values_list("action", flat=True))
    assert trail == ["create", "update", "update"]
    assert Dispute.objects.get().status == "resolved_credit_note"


# --- the worklist -----------------------------------------------------------------------------------------------


def test_a_broken_promise_ranks_the_customer_first_until_followed_up(company, books, post):

    from dues.collections.models import Activity
    from dues.collections.selectors import worklist
    from dues.collections.services.activities import activity_log

    on = days(10)
    promise(books.acme, "50000", 3, invoices=["INV-2"])  # taken on D, deadline D+6: broken by D+10
    assert Activity.objects.get().on == D

    entries = worklist(company, on=on)
    assert [e.facts.code for e in entries] == ["C001", "C002", "C003"]  # 40 lakh overdue for C002, yet C001 first
    first = entries[0]
    assert first.facts.broken_promises == 1 and first.facts.overdue == Decimal("150000")
    assert first.reasons[0].startswith("broken promise (deadline 2026-12-06), not followed up: +1000")
    assert first.facts.last_contact == D and "last contact 10 days ago: +20" in first.reasons
    zen = entries[1]
    assert zen.facts.oldest_days == 110 and zen.facts.weighted_overdue == Decimal("16000000")  # 40 lakh x 4
    assert zen.score == 420 + 120 and zen.reasons[-1] == "never contacted: +120"
    # only Meena's customers
    assert [e.facts.code for e in worklist(company, collector="meena", on=on)] == ["C001", "C002"]

    # the collector calls: the broken promise is followed up, C002's bigger debt leads again
    activity_log(customer=books.acme, kind="call", outcome="no_answer", notes="rang twice", actor="test")
    Activity.objects.filter(outcome="no_answer").update(on=on)  # (D+10 may be after today: dated directly)
    after = worklist(company, on=on)
    assert [e.facts.code for e in after] == ["C002", "C003", "C001"]
    assert after[-1].score == 218
    assert after[-1].reasons == ["1,50,000.00 overdue, oldest 20 days (age-weighted 1,50,000.00): +218"]


def test_a_promise_due_today_is_on_the_worklist(company, books, post):
    from dues.collections.selectors import worklist

    # nothing overdue now (paid the day before the promise: on account, receipts from the day it is taken count)
    receipt(post, "RCT-4", books.orb, -1, "20000", allocations=[("INV-4", "20000")])
    promise(books.orb, "5000", 4)
    entries = {e.facts.code: e for e in worklist(company, on=days(4))}
    assert entries["C003"].facts.overdue == 0
    assert entries["C003"].reasons[0] == "promise of 5,000.00 due today: +300"


def test_worklist_runs_a_fixed_number_of_queries(company, books, make_customer, post, django_assert_max_num_queries):
    from dues.collections.selectors import worklist

    for n in range(20):
        c = make_customer(f"X{n:03d}")
        post("invoice", f"XI-{n}", c, days(-60), "1000", due_date=days(-30))
        promise(c, "500", 0)
    with django_assert_max_num_queries(5):
        assert len(worklist(company, on=D)) == 23


def test_activity_log_validates(company, books):
    from dues.collections.models import Activity
    from dues.collections.services.activities import activity_log
    from dues.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        activity_log(customer=books.acme, kind="fax", outcome="maybe", actor="test")
    assert sorted(p.field for p in err.value.problems) == ["kind", "outcome"]
    assert not Activity.objects.exists()
    a = activity_log(customer=books.acme, kind="visit", outcome="reached", notes="met the CFO", actor="test")
    assert (a.kind, a.outcome, a.created_by) == ("visit", "reached", "test")


# --- permissions ------------------------------------------------------------------------------------------------


def user(role, person=""):
    from django.contrib.auth import get_user_model

    from dues.users.models import UserRole

    u = get_user_model().objects.create_user(f"u-{role}", password="x-long-pass-1")
    UserRole.objects.create(user=u, role=role, person_name=person)
    return u


@pytest.mark.parametrize("role", ["billing", "sales", "auditor"])
def test_roles_without_collections_act_are_refused_and_nothing_is_written(company, books, post, role):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity, Dispute, PromiseToPay
    from dues.collections.services.activities import activity_log
    from dues.collections.services.disputes import dispute_open, dispute_resolve, dispute_update
    from dues.core.errors import PermissionDenied

    existing = dispute_open(company=company, invoice="INV-1", amount="100", reason="tax", owner="finance",
                            actor="test")
    post("credit_note", "CN-1", books.acme, D, "100")
    who = user(role, person="Meena")
    before = (AuditRecord.objects.count(), Activity.objects.count())
    calls = [
        lambda: promise(books.acme, "1000", 2, actor=who),
        lambda: dispute_open(company=company, invoice="INV-2", amount="10", reason="price", owner="sales", actor=who),
        lambda: dispute_update(dispute=existing, status="in_progress", actor=who),
        lambda: dispute_resolve(dispute=existing, credit_note="CN-1", actor=who),
        lambda: activity_log(customer=books.acme, kind="call", outcome="reached", actor=who),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert (AuditRecord.objects.count(), Activity.objects.count()) == before
    assert not PromiseToPay.objects.exists()
    assert list(Dispute.objects.values_list("status", flat=True)) == ["open"]


@pytest.mark.parametrize("role", ["collector", "ar_manager", "admin"])
def test_collectors_and_managers_may_act(company, books, post, role):
    from dues.collections.services.disputes import dispute_open, dispute_resolve

    who = user(role)
    p = promise(books.acme, "1000", 2, actor=who)
    assert p.taken_by == f"u-{role}"
    d = dispute_open(company=company, invoice="INV-2", amount="10", reason="price", owner="sales", actor=who)
    assert dispute_resolve(dispute=d, rejected=True, actor=who).status == "rejected"
