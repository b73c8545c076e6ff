"""My day (/my-day/): the collector's home page. Counts, follow-ups, promises due and broken, the worklist of
their customers, and each row's actions over htmx and without JavaScript; roles; the queries it costs.

(The module name holds "web_collections" so scripts/test runs it again with today far off.)"""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dues import clock
from dues.audit.models import AuditRecord
from dues.collections.models import Activity, Dispute, PromiseToPay
from dues.collections.services.activities import activity_log
from dues.collections.services.promises import promise_add
from dues.formats import format_day

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
        made[role], _ = user_add(username=f"u_{role}", role=role, password="pw-my-day-2026", person_name=person,
                                 actor="test")
    return made


@pytest.fixture
def book(company, make_customer, post):
    """Acme (Meena) owes 1,18,000 due 70 days ago and 59,000 due 10 days ago; Zenith (Kiran) owes 2,36,000
    due 20 days ago; Bharat (Meena) owes 50,000 not yet due."""
    acme = make_customer("C001", name="Acme Fasteners", salesperson="Ravi", collector="Meena",
                         email="accounts@acme.example", phone="+91 98200 11111")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Kiran", collector="Kiran")
    bharat = make_customer("C003", name="Bharat Steel", salesperson="Ravi", collector="Meena")
    post("invoice", "INV-101", acme, day(-100), "118000.00")
    post("invoice", "INV-102", acme, day(-40), "59000.00")
    post("invoice", "INV-201", zen, day(-50), "236000.00")
    post("invoice", "INV-301", bharat, day(-5), "50000.00")
    return SimpleNamespace(acme=acme, zen=zen, bharat=bharat)


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    monkeypatch.delenv("DUES_SMS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "outbox"


def as_(client, user):
    client.force_login(user)
    return client


def written():
    return (Activity.objects.count(), PromiseToPay.objects.count(), Dispute.objects.count())


# --- the page --------------------------------------------------------------------------------------------------


def test_my_day_lists_the_collectors_own_customers_with_todays_counts(client, people, book):
    page = text(as_(client, people["collector"]).get("/my-day/"))
    assert "<h1>My day</h1>" in page and format_day(clock.today()) in page
    assert 'id="day-c001"' in page and "Acme Fasteners" in page and "₹1,77,000.00" in page
    assert 'id="day-c002"' not in page  # Zenith is Kiran's
    assert 'id="day-c003"' not in page  # Bharat owes nothing overdue
    assert '<p class="card__figure" data-count="calls">0</p>' in page
    assert "No follow-ups due today." in page and "No promise falls due today." in page
    assert "No promise was broken yesterday." in page
    # every action of the row: a link to its form (a page without JavaScript, the row over htmx)
    for action in ("call", "promise", "dispute", "send", "follow_up"):
        assert f'href="/my-day/C001/row/?action={action}" hx-get="/my-day/C001/row/?action={action}"' in page
    assert "<form" not in page[page.index('id="day-c001"'):]  # the forms come when wanted: a light page


def test_an_actions_form_in_the_row_over_htmx_and_as_a_page_without_javascript(client, people, book):
    c = as_(client, people["collector"])
    for action, post_to in (("call", "call"), ("promise", "promise"), ("dispute", "dispute"),
                            ("follow_up", "follow-up")):
        row = text(c.get(f"/my-day/C001/row/?action={action}", **HTMX))
        assert row.strip().startswith('<article id="day-c001"') and f'id="day-c001-{action}" class="day-action"' in row
        assert f'method="post" action="/my-day/C001/{post_to}/"' in row and " autofocus" in row
        page = text(c.get(f"/my-day/C001/row/?action={action}"))
        assert "<h1>Acme Fasteners</h1>" in page and f'method="post" action="/my-day/C001/{post_to}/"' in page
    row = text(c.get("/my-day/C001/row/?action=dispute", **HTMX))
    assert '<option value="INV-101">INV-101 · ₹1,18,000.00' in row
    row = text(c.get("/my-day/C001/row/?action=send", **HTMX))
    assert 'method="get" action="/my-day/C001/send/"' in row
    assert c.get("/my-day/C002/row/?action=call", **HTMX).status_code == 200  # any customer the role may see
    row = text(c.get("/my-day/C001/row/", **HTMX))  # "Close": the row with no form open, focused
    assert "<form" not in row and "data-saved" in row


def test_the_dashboard_sends_a_collector_to_my_day_and_the_others_stay(client, people, book):
    response = as_(client, people["collector"]).get("/")
    assert response.status_code == 302 and response["Location"] == "/my-day/"
    assert client.get("/?view=dashboard").status_code == 200  # the dashboard is still there for them
    assert '>My&nbsp;day</a>' in text(client.get("/my-day/"))
    for role in ("ar_manager", "admin", "billing"):
        response = as_(client, people[role]).get("/")
        assert response.status_code == 200
        assert ('>My&nbsp;day</a>' in text(response)) == (role != "billing")  # the nav link: collections.act only


@pytest.mark.parametrize("role", ["billing", "sales", "auditor"])
def test_roles_without_collections_act_are_refused_and_nothing_is_written(client, people, book, role):
    c = as_(client, people[role])
    assert c.get("/my-day/").status_code == 403
    for action, data in (("call", {"outcome": "reached"}), ("promise", {"amount": "1000", "promised_date": day(3)}),
                         ("dispute", {"invoice": "INV-101", "amount": "10", "reason": "price", "owner": "sales"}),
                         ("follow-up", {"next_follow_up": day(2)}), ("send", {"template": "statement"})):
        assert c.post(f"/my-day/C001/{action}/", data, **HTMX).status_code == 403
    assert c.get("/my-day/C001/send/?template=statement&channel=email", **HTMX).status_code == 403
    assert c.get("/my-day/C001/row/?action=call", **HTMX).status_code == 403
    assert written() == (0, 0, 0)


def test_follow_ups_promises_due_today_and_broken_yesterday(client, people, book):
    activity_log(customer=book.acme, kind="call", outcome="reached", notes="send the revised PO",
                 next_follow_up=day(0), actor="test", on=day(-2))
    promise_add(customer=book.bharat, amount="50000", promised_date=day(0), taken_on=day(-2), actor="test")
    # deadline yesterday (promised 4 days ago + 3 grace days), nothing received: broken yesterday
    promise_add(customer=book.acme, amount="1,50,000", promised_date=day(-4), taken_on=day(-10), actor="test")
    # another collector's customer is not on Meena's day
    promise_add(customer=book.zen, amount="1000", promised_date=day(0), taken_on=day(-1), actor="test")
    page = text(as_(client, people["collector"]).get("/my-day/"))
    follow_ups = page[page.index('id="h-follow-ups"'):page.index('id="h-due"')]
    assert "Follow-ups due (1)" in follow_ups and "send the revised PO" in follow_ups
    assert '<a href="#day-c001">Acme Fasteners</a>' in follow_ups  # to the row below
    due = page[page.index('id="h-due"'):page.index('id="h-broken"')]
    assert "Promises due today (1)" in due and "Bharat Steel" in due and "₹50,000.00" in due
    assert "Zenith" not in due
    broken = page[page.index('id="h-broken"'):page.index('id="h-work"')]
    assert "Promises broken yesterday (1)" in broken and "Acme Fasteners" in broken and "₹1,50,000.00" in broken
    assert "promised by " + format_day(day(-4)) in broken
    assert 'id="day-c003"' in page  # Bharat is on the worklist now: a promise falls due today


def test_the_counts_are_this_collectors_work_of_today(client, people, book, post):
    meena = people["collector"]
    activity_log(customer=book.acme, kind="call", outcome="no_answer", actor=meena, on=day(-1))  # logged today
    activity_log(customer=book.acme, kind="call", outcome="reached", actor=meena)
    activity_log(customer=book.acme, kind="visit", outcome="reached", actor=meena)  # not a call
    activity_log(customer=book.acme, kind="call", outcome="reached", actor=people["ar_manager"])  # someone else
    promise_add(customer=book.acme, amount="25000.50", promised_date=day(5), actor=meena)  # its activity: a promise
    promise_add(customer=book.bharat, amount="10000", promised_date=day(5), actor=meena)
    promise_add(customer=book.zen, amount="99999", promised_date=day(5), actor=people["ar_manager"])
    post("receipt", "RCT-1", book.acme, day(0), "59000.00", mode="neft", reference="UTR1", tds=Decimal("1000.00"))
    post("receipt", "RCT-2", book.acme, day(-1), "1000.00", mode="neft", reference="UTR2")  # yesterday
    post("receipt", "RCT-3", book.zen, day(0), "7000.00", mode="neft", reference="UTR3")  # Kiran's customer
    page = text(as_(client, meena).get("/my-day/"))
    assert '<p class="card__figure" data-count="calls">2</p>' in page
    assert '<p class="card__figure" data-count="promises">2</p>' in page
    assert '<p class="card__figure" data-count="promised">₹35,000.50</p>' in page
    assert '<p class="card__figure" data-count="collected">₹60,000.00</p>' in page


def test_the_page_costs_the_same_queries_for_three_customers_or_thirty(client, people, book, make_customer, post):
    client = as_(client, people["collector"])
    client.get("/my-day/")  # warm the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/my-day/").status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(30):
        customer = make_customer(f"M{n:03d}", name=f"More {n}", collector="Meena", email=f"m{n}@example.in")
        post("invoice", f"INV-M{n}", customer, day(-60 - n), "1000.00")
        activity_log(customer=customer, kind="call", outcome="reached", next_follow_up=day(0), actor="test",
                     on=day(-1))
        promise_add(customer=customer, amount="100", promised_date=day(0), taken_on=day(-1), actor="test")
    many = queries()
    assert many == few, f"{few} queries for 2 customers, {many} for 32"
    assert many <= 25


# --- the row actions -------------------------------------------------------------------------------------------


def test_a_call_dated_yesterday_with_a_follow_up_comes_back_as_the_row_offering_the_promise(client, people, book):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/call/", {"kind": "call", "outcome": "promised", "on": day(-1).isoformat(),
                                             "next_follow_up": day(2).isoformat(), "notes": "will pay Friday"}, **HTMX)
    assert response.status_code == 200
    row = text(response)
    assert row.strip().startswith('<article id="day-c001"') and "data-saved" in row
    assert f"Call on {format_day(day(-1))} logged: promised; follow up on {format_day(day(2))}." in row
    assert 'data-next="promise">Take a promise</a>' in row
    assert 'id="day-c001-promise" class="day-action"' in row
    assert f'name="taken_on" value="{day(-1).isoformat()}"' in row  # the promise is dated the day of the call
    activity = Activity.objects.get()
    assert (activity.kind, activity.outcome, activity.on, activity.next_follow_up, activity.created_by) == \
        ("call", "promised", day(-1), day(2), "u_collector")
    record = AuditRecord.objects.filter(object_type="activity").latest("seq")
    assert json.loads(record.after_json)["on"] == day(-1).isoformat()


def test_a_call_in_the_future_is_refused_and_nothing_is_logged(client, people, book):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/call/", {"kind": "call", "outcome": "reached", "on": day(1).isoformat(),
                                             "notes": "typo"}, **HTMX)
    assert response.status_code == 400
    row = text(response)
    assert "is in the future" in row and 'id="day-c001-call" class="day-action"' in row
    assert "typo</textarea>" in row  # what was typed is kept
    assert written() == (0, 0, 0)
    # without JavaScript: back to the page with the message
    response = c.post("/my-day/C001/call/", {"kind": "call", "outcome": "reached", "on": day(1).isoformat()})
    assert response.status_code == 302 and response["Location"] == "/my-day/#day-c001"
    assert "is in the future" in text(c.get("/my-day/"))
    assert written() == (0, 0, 0)


def test_a_promise_in_indian_grouping_with_and_without_javascript(client, people, book):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/promise/", {"amount": "1,50,000.50", "promised_date": day(3).isoformat(),
                                                "invoices": "INV-101", "taken_on": day(-1).isoformat()}, **HTMX)
    assert response.status_code == 200
    assert f"Promise of ₹1,50,000.50 by {format_day(day(3))} taken." in text(response)
    promise = PromiseToPay.objects.get()
    assert promise.amount == Decimal("150000.50") and promise.taken_on == day(-1)
    assert [d.number for d in promise.invoices.all()] == ["INV-101"]
    assert AuditRecord.objects.filter(object_type="promise_to_pay", action="create").count() == 1
    response = c.post("/my-day/C003/promise/", {"amount": "50,000", "promised_date": day(3).isoformat()})
    assert response.status_code == 302 and response["Location"] == "/my-day/#day-c003"
    assert "C003: Promise of ₹50,000.00" in text(c.get("/my-day/"))
    # refused: not an amount, no date, an invoice of another customer
    response = c.post("/my-day/C001/promise/", {"amount": "1,5,0", "promised_date": ""}, **HTMX)
    assert response.status_code == 400
    assert "is not an amount" in text(response) and "By when?" in text(response)
    response = c.post("/my-day/C001/promise/", {"amount": "100", "promised_date": day(3).isoformat(),
                                                "invoices": "INV-201"}, **HTMX)
    assert response.status_code == 400 and "C001 has no posted invoice INV-201" in text(response)
    assert PromiseToPay.objects.count() == 2


def test_a_dispute_from_the_row(client, people, book):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/dispute/", {"invoice": "INV-101", "amount": "18,000", "reason": "price",
                                                "owner": "sales", "notes": "rate differs from PO"}, **HTMX)
    assert response.status_code == 200
    assert "Dispute on INV-101 (₹18,000.00, price) raised" in text(response)
    dispute = Dispute.objects.get()
    assert dispute.amount == Decimal("18000") and dispute.customer == book.acme
    response = c.post("/my-day/C001/dispute/", {"invoice": "INV-201", "amount": "10", "reason": "price",
                                                "owner": "sales"}, **HTMX)  # Zenith's invoice
    assert response.status_code == 400 and "C001 has no invoice INV-201" in text(response)
    response = c.post("/my-day/C001/dispute/", {"invoice": "INV-102", "amount": "59,001", "reason": "price",
                                                "owner": "sales"}, **HTMX)
    assert response.status_code == 400 and "more than what is left to dispute" in text(response)
    assert Dispute.objects.count() == 1


def test_a_follow_up_from_the_row(client, people, book):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/follow-up/", {"next_follow_up": day(4).isoformat(), "notes": "after the audit"},
                      **HTMX)
    assert response.status_code == 200 and f"Next follow-up set for {format_day(day(4))}." in text(response)
    activity = Activity.objects.get()
    assert (activity.kind, activity.next_follow_up, activity.notes) == ("task", day(4), "after the audit")
    assert AuditRecord.objects.filter(object_type="activity", object_id=str(activity.pk)).exists()
    response = c.post("/my-day/C001/follow-up/", {"next_follow_up": day(-1).isoformat()}, **HTMX)
    assert response.status_code == 400 and "has passed" in text(response)
    assert Activity.objects.count() == 1


def test_a_statement_previewed_then_sent_by_email_with_the_pdf(client, people, book, outbox):
    c = as_(client, people["collector"])
    response = c.get("/my-day/C001/send/?template=statement&channel=email", **HTMX)
    assert response.status_code == 200
    row = text(response)
    assert "accounts@acme.example" in row and f"statement-C001-{clock.today().isoformat()}.pdf" in row
    assert "Send now" in row and "₹1,77,000.00" in row
    assert Activity.objects.count() == 0 and not outbox.exists()  # a preview sends nothing
    # without JavaScript the preview is a page of its own
    page = c.get("/my-day/C001/send/?template=statement&channel=email")
    assert page.status_code == 200 and "<h1>Acme Fasteners</h1>" in text(page)

    response = c.post("/my-day/C001/send/", {"template": "statement", "channel": "email"}, **HTMX)
    assert response.status_code == 200
    assert "Statement sent by email to accounts@acme.example" in text(response)
    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "accounts@acme.example"
    [pdf] = [part for part in message.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    activity = Activity.objects.get()
    assert (activity.kind, activity.outcome, activity.created_by) == ("email", "sent", "u_collector")
    after = json.loads(AuditRecord.objects.filter(object_type="activity").latest("seq").after_json)
    assert after["template"] == "statement" and after["attachments"] == [
        f"statement-C001-{clock.today().isoformat()}.pdf"]


def test_a_reminder_by_whatsapp_and_sms_without_a_phone_is_refused(client, people, book, outbox):
    c = as_(client, people["collector"])
    response = c.post("/my-day/C001/send/", {"template": "sms-reminder", "channel": "whatsapp"}, **HTMX)
    assert response.status_code == 200 and "sent by whatsapp to +91 98200 11111" in text(response)
    assert len(list(outbox.glob("*.whatsapp.json"))) == 1
    # without JavaScript: the preview page's "Send now" posts, and the page says what went
    response = c.post("/my-day/C001/send/", {"template": "reminder-1", "channel": "email"})
    assert response.status_code == 302 and response["Location"] == "/my-day/#day-c001"
    assert "C001: Reminder 1 sent by email to accounts@acme.example." in text(c.get("/my-day/"))
    assert len(list(outbox.glob("*.eml"))) == 1
    response = c.post("/my-day/C003/send/", {"template": "sms-reminder", "channel": "sms"}, **HTMX)
    assert response.status_code == 400 and "C003 has no phone number" in text(response)
    response = c.post("/my-day/C001/send/", {"template": "nonsense", "channel": "email"}, **HTMX)
    assert response.status_code == 400 and "unknown template" in text(response)
    assert Activity.objects.count() == 2
