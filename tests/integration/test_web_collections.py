"""Collections pages: worklist (with one-click logging and promises), customer timeline, promise and dispute
boards, dunning preview; what each role may read and do there."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from dues import clock
from dues.collections.models import Activity, Dispute, PromiseToPay
from dues.collections.services.disputes import dispute_open
from dues.collections.services.promises import promise_add

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def day(n: int):
    return clock.today() + timedelta(days=n)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def people(db):
    from dues.users.services import user_add

    made = {}
    for role, person in (("ar_manager", ""), ("collector", "Meena"), ("billing", ""), ("sales", "Ravi"),
                         ("auditor", ""), ("admin", "")):
        made[role], _ = user_add(username=f"u_{role}", role=role, password="pw-collect-2026", person_name=person,
                                 actor="test")
    return made


@pytest.fixture
def book(company, make_customer, post):
    """Acme (Meena, sales Ravi) owes 1,18,000 due 70 days ago and 59,000 due 10 days ago;
    Zenith (Kiran) owes 2,36,000 due 20 days ago; Bharat owes nothing overdue."""
    acme = make_customer("C001", name="Acme Fasteners", salesperson="Ravi", collector="Meena")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Kiran", collector="Kiran")
    bharat = make_customer("C003", name="Bharat Steel", salesperson="Ravi", collector="Meena")
    post("invoice", "INV-101", acme, day(-100), "118000.00")
    post("invoice", "INV-102", acme, day(-40), "59000.00")
    post("invoice", "INV-201", zen, day(-50), "236000.00")
    post("invoice", "INV-301", bharat, day(-5), "50000.00")
    return SimpleNamespace(acme=acme, zen=zen, bharat=bharat)


def as_(client, user):
    client.force_login(user)
    return client


def counts():
    return (Activity.objects.count(), PromiseToPay.objects.count(), Dispute.objects.count())


# --- worklist ---------------------------------------------------------------------------------------------------


def test_worklist_ranks_customers_and_explains_the_score(client, people, book):
    page = text(as_(client, people["ar_manager"]).get("/worklist/"))
    assert "2 customers to chase" in page
    # Acme: age-weighted 1,18,000×3 + 59,000×1 = 4,13,000 -> 262 points, never contacted +120 = 382
    # Zenith: 2,36,000×1 -> 237, +120 = 357; Bharat has nothing overdue and is not listed
    assert page.index("Acme Fasteners") < page.index("Zenith Polymers")
    assert "Bharat Steel" not in page
    assert '<strong class="worklist__score">382</strong>' in page
    assert '<strong class="worklist__score">357</strong>' in page
    assert "₹1,77,000.00" in page and "oldest 70 days" in page and "(age-weighted 4,13,000.00): +262" in page
    assert "never contacted: +120" in page


def test_a_collector_sees_their_own_customers_first_and_may_see_everyone(client, people, book):
    desk = as_(client, people["collector"])
    mine = text(desk.get("/worklist/"))
    assert "Acme Fasteners" in mine and "Zenith Polymers" not in mine and "collector Meena" in mine
    everyone = text(desk.get("/worklist/?collector=*"))
    assert "Acme Fasteners" in everyone and "Zenith Polymers" in everyone
    kiran = text(desk.get("/worklist/?collector=Kiran"))
    assert "Zenith Polymers" in kiran and "Acme Fasteners" not in kiran
    # a later date: INV-301 (due in 25 days) is overdue 40 days from now
    later = text(desk.get(f"/worklist/?on={day(40).isoformat()}"))
    assert "Bharat Steel" in later
    bad = text(desk.get("/worklist/?on=31-31-2026"))
    assert "is not a date" in bad


def test_logging_a_call_with_a_promise_creates_the_activity_and_the_promise(client, people, book):
    desk = as_(client, people["collector"])
    response = desk.post("/worklist/C001/log/", {"kind": "call", "outcome": "promised", "notes": "Will pay Friday",
                                                 "amount": "1,18,000", "promised_date": day(5).isoformat(),
                                                 "invoices": "INV-101"}, **HTMX)
    assert response.status_code == 200
    row = text(response)
    assert row.strip().startswith('<tr id="wl-c001"') and "Promise of ₹1,18,000.00 by" in row
    assert row.count("₹1,18,000.00") == 2  # the message and the promise due column
    promise = PromiseToPay.objects.get()
    assert promise.customer == book.acme and promise.amount == Decimal("118000.00")
    assert promise.promised_date == day(5) and [d.number for d in promise.invoices.all()] == ["INV-101"]
    assert promise.taken_by == people["collector"].username or promise.taken_by
    activity = Activity.objects.get()
    assert (activity.kind, activity.outcome, activity.notes) == ("call", "promised", "Will pay Friday")
    assert promise.activity == activity
    # the row now counts a contact today: no "never contacted" points
    assert "never contacted" not in row
    page = text(desk.get("/worklist/"))
    assert "by " + day(5).strftime("%d-%m-%Y") in page


def test_logging_an_outcome_without_a_promise_and_the_errors(client, people, book):
    desk = as_(client, people["ar_manager"])
    ok = desk.post("/worklist/C002/log/", {"kind": "call", "outcome": "no_answer",
                                           "next_follow_up": day(1).isoformat()}, **HTMX)
    assert ok.status_code == 200 and "Call logged: no answer." in text(ok)
    a = Activity.objects.get()
    assert (a.customer, a.outcome, a.next_follow_up) == (book.zen, "no_answer", day(1))
    before = counts()
    bad = desk.post("/worklist/C002/log/", {"kind": "call", "outcome": "promised", "amount": "",
                                            "promised_date": ""}, **HTMX)
    assert bad.status_code == 400
    assert "How much did they promise?" in text(bad) and "By when?" in text(bad)
    wrong = desk.post("/worklist/C002/log/", {"kind": "call", "outcome": "promised", "amount": "5000",
                                              "promised_date": day(2).isoformat(), "invoices": "INV-101"}, **HTMX)
    assert wrong.status_code == 400 and "C002 has no posted invoice INV-101" in text(wrong)
    assert counts() == before
    # without HTMX the form posts and comes back to the worklist
    plain = desk.post("/worklist/C002/log/", {"kind": "visit", "outcome": "reached", "next": "/worklist/?collector=*"})
    assert plain.status_code == 302 and plain["Location"] == "/worklist/?collector=*"
    assert Activity.objects.filter(kind="visit", outcome="reached").count() == 1


# --- roles ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["billing", "sales", "auditor"])
def test_roles_without_collections_act_are_refused_and_nothing_is_written(client, people, book, role):
    dispute = dispute_open(company=book.acme.company, invoice="INV-101", amount="1000", reason="price",
                           owner="sales", actor=people["ar_manager"])
    desk = as_(client, people[role])
    before = counts()
    for url, data in (("/worklist/C001/log/", {"kind": "call", "outcome": "promised", "amount": "100",
                                                "promised_date": day(3).isoformat()}),
                      ("/disputes/new/", {"invoice": "INV-102", "amount": "100", "reason": "price",
                                          "owner": "sales"}),
                      (f"/disputes/{dispute.pk}/resolve/", {"decision": "reject"})):
        response = desk.post(url, data)
        assert response.status_code == 403, url
    assert desk.get("/worklist/").status_code == 403
    assert desk.get("/dunning/preview/").status_code == 403
    assert counts() == before
    dispute.refresh_from_db()
    assert dispute.status == Dispute.OPEN
    # reading the boards needs only desk.view
    assert desk.get("/promises/").status_code == 200
    assert desk.get("/disputes/").status_code == 200


def test_sales_sees_only_their_customers_timeline_and_board_rows(client, people, book):
    promise_add(customer=book.zen, amount="1000", promised_date=day(3), actor=people["ar_manager"])
    promise_add(customer=book.acme, amount="2000", promised_date=day(4), actor=people["ar_manager"])
    desk = as_(client, people["sales"])
    assert desk.get("/customers/C001/timeline/").status_code == 200
    assert desk.get("/customers/C002/timeline/").status_code == 403
    board = text(desk.get("/promises/"))
    assert "Acme Fasteners" in board and "Zenith Polymers" not in board
    assert "Promised against received" not in board  # the company-wide report is not theirs


# --- timeline ---------------------------------------------------------------------------------------------------


def test_the_timeline_is_one_stream_newest_first(client, people, book):
    from dues.collections.models import DunningAction, DunningStep
    from dues.collections.services.activities import activity_log
    from dues.collections.services.policies import policy_default

    manager = people["ar_manager"]
    # each event on its own day (the clock is frozen: the record stamps are all the same instant)
    activity_log(customer=book.acme, kind="call", outcome="no_answer", notes="rang twice", actor=manager, on=day(-3))
    step = DunningStep.objects.filter(policy=policy_default(book.acme.company)).order_by("order").first()
    DunningAction.objects.create(company=book.acme.company, customer=book.acme, step=step, step_key=step.key,
                                 date=day(-2), items=["INV-101"], amount=Decimal("118000"), channel="email",
                                 idempotency_key="k1", status="sent", created_by="test")
    promise_add(customer=book.acme, amount="59000", promised_date=day(7), actor=manager, invoices=["INV-102"],
                taken_on=day(-1))
    dispute_open(company=book.acme.company, invoice="INV-101", amount="18000", reason="damaged", owner="dispatch",
                 actor=manager)
    promise_add(customer=book.zen, amount="1", promised_date=day(1), actor=manager)  # another customer's
    page = text(as_(client, manager).get("/customers/C001/timeline/"))
    assert "rang twice" in page and "No answer" in page
    assert "Dunning email" in page and "sent" in page and "₹1,18,000.00 on INV-101" in page
    assert "₹59,000.00 by " + day(7).strftime("%d-%m-%Y") in page and "INV-102" in page
    assert "₹18,000.00 on INV-101: damaged · owner dispatch" in page
    # newest first: the dispute (and its activity) after the promise, the promise after the message
    assert page.index("Dispute</span>") < page.index("Promise</span>") < page.index("Dunning email") \
        < page.index("rang twice")
    assert "₹1.00" not in page
    assert 'class="timeline__event' in page and page.count('class="timeline__event') == 6


def test_the_timeline_pages_fifty_at_a_time(client, people, book):
    from dues.collections.services.activities import activity_log

    for n in range(55):
        activity_log(customer=book.acme, kind="call", outcome="reached", notes=f"note {n:02d}", actor="test")
    desk = as_(client, people["auditor"])
    first, second = text(desk.get("/customers/C001/timeline/")), text(desk.get("/customers/C001/timeline/?page=2"))
    assert first.count('class="timeline__event') == 50 and second.count('class="timeline__event') == 5
    assert "1–50 of 55" in first and "note 54" in first and "note 00" in second
    assert "Log a call" not in first  # the auditor reads only


# --- promises board ---------------------------------------------------------------------------------------------


def test_a_promise_turns_kept_when_the_receipt_arrives(client, people, book, post):
    manager = people["ar_manager"]
    promise_add(customer=book.acme, amount="59000", promised_date=day(3), actor=manager, invoices=["INV-102"])
    promise_add(customer=book.zen, amount="100000", promised_date=day(2), actor=manager)
    desk = as_(client, manager)
    board = text(desk.get("/promises/"))
    assert "Open <span class=\"board-tabs__count\">2</span>" in board
    post("receipt", "RCT-1", book.acme, day(0), "59000", allocations=[("INV-102", Decimal("59000"))])
    post("receipt", "RCT-2", book.zen, day(0), "40000")
    kept = text(desk.get("/promises/?status=kept"))
    assert PromiseToPay.objects.get(customer=book.acme).status == PromiseToPay.KEPT
    assert "Kept <span class=\"board-tabs__count\">1</span>" in kept and "Acme Fasteners" in kept
    assert "Zenith Polymers" not in kept.split("Promised against received")[0]
    # the report: two promises by the manager, 1,59,000 promised, 99,000 received (59,000 + 40,000 so far)
    report = kept.split("Promised against received")[1]
    assert "₹1,59,000.00" in report and "₹99,000.00" in report
    assert PromiseToPay.objects.get(customer=book.zen).received == Decimal("40000")


# --- disputes board ---------------------------------------------------------------------------------------------


def test_open_and_resolve_disputes_from_the_board(client, people, book, post):
    desk = as_(client, people["collector"])
    bad = desk.post("/disputes/new/", {"invoice": "INV-999", "amount": "10", "reason": "price", "owner": "sales"})
    assert bad.status_code == 400 and "no invoice or debit note &#x27;INV-999&#x27;" in bad.content.decode()
    too_much = desk.post("/disputes/new/", {"invoice": "INV-102", "amount": "60000", "reason": "price",
                                            "owner": "sales"})
    assert too_much.status_code == 400 and "more than what is left to dispute" in text(too_much)
    assert Dispute.objects.count() == 0
    ok = desk.post("/disputes/new/", {"invoice": "INV-102", "amount": "9000", "reason": "quantity",
                                      "owner": "dispatch", "sla_days": "5"})
    assert ok.status_code == 302
    dispute = Dispute.objects.get()
    assert (dispute.amount, dispute.reason, dispute.owner, dispute.sla_days) == (Decimal("9000"), "quantity",
                                                                               "dispatch", 5)
    old = dispute_open(company=book.acme.company, invoice="INV-101", amount="1000", reason="price", owner="sales",
                       actor=people["ar_manager"], opened_on=day(-9))
    board = text(desk.get("/disputes/"))
    assert "Active <span class=\"board-tabs__count\">2</span>" in board
    assert "0 / 5 days" in board and "9 / 7 days" in board and board.count("past SLA") == 1
    # resolve: no credit note given -> the error next to the field
    missing = desk.post(f"/disputes/{old.pk}/resolve/", {"decision": "credit_note", "credit_note": ""})
    assert missing.status_code == 400 and "Give the credit note number" in text(missing)
    post("credit_note", "CN-1", book.acme, day(0), "1000")
    done = desk.post(f"/disputes/{old.pk}/resolve/", {"decision": "credit_note", "credit_note": "CN-1"})
    assert done.status_code == 302
    old.refresh_from_db()
    assert old.status == Dispute.RESOLVED_CREDIT_NOTE and old.credit_note.number == "CN-1"
    desk.post(f"/disputes/{dispute.pk}/resolve/", {"decision": "reject"})
    dispute.refresh_from_db()
    assert dispute.status == Dispute.REJECTED
    resolved = text(desk.get("/disputes/?status=resolved_credit_note")).split("<tbody>")[1].split("</tbody>")[0]
    assert "CN-1" in resolved and "INV-101" in resolved and "INV-102" not in resolved


# --- dunning preview --------------------------------------------------------------------------------------------


def test_dunning_preview_lists_what_would_go_out_and_sends_nothing(client, people, book):
    from dues.collections.models import DunningAction

    dispute_open(company=book.acme.company, invoice="INV-101", amount="118000", reason="price", owner="sales",
                 actor=people["ar_manager"])
    desk = as_(client, people["collector"])
    page = text(desk.get("/dunning/preview/"))
    assert "on " + day(1).strftime("%d-%m-%Y") in page
    assert "Zenith Polymers" in page and "INV-201" in page and "₹2,36,000.00" in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    sending = [r for r in rows if "would send" in r]
    assert sending and all("INV-101" not in r for r in sending)  # disputed: left out, with the reason
    assert any("INV-101" in r and "disputed item(s) left out" in r for r in rows)
    assert DunningAction.objects.count() == 0
    later = text(desk.get(f"/dunning/preview/?on={day(30).isoformat()}&status=pending"))
    assert "INV-301" in later
    assert "is not a date" in text(desk.get("/dunning/preview/?on=nope"))


def test_the_nav_and_the_customer_page_lead_to_collections(client, people, book):
    collector = text(as_(client, people["collector"]).get("/customers/C001/"))
    assert '<a href="/worklist/"' in collector
    assert 'href="/customers/C001/timeline/">Timeline</a>' in collector and "?log=1\">Log a call</a>" in collector
    billing = text(as_(client, people["billing"]).get("/customers/C001/"))
    assert '<a href="/worklist/"' not in billing and "Log a call" not in billing
    assert 'href="/customers/C001/timeline/">Timeline</a>' in billing
    # ?log=1 opens the timeline's log form
    assert '<details class="panel timeline__log" open>' in text(as_(client, people["collector"])
                                                                 .get("/customers/C001/timeline/?log=1"))


def test_worklist_collector_by_login_and_an_unknown_one_is_said(client, people, book):
    desk = as_(client, people["ar_manager"])
    by_login = text(desk.get("/worklist/?collector=u_collector"))
    assert "Acme Fasteners" in by_login and "Zenith Polymers" not in by_login
    unknown = text(desk.get("/worklist/?collector=Nobody"))
    assert "no collector &#x27;Nobody&#x27;: not a login, nor the collector of any customer" in unknown
    assert "Acme Fasteners" not in unknown
