"""Credit control: group limits, holds (manual and automatic), releases that lapse, Sales e-mails, the review list."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from dues import clock
from dues.core.errors import DuesError, PermissionDenied

pytestmark = [pytest.mark.django_db, pytest.mark.date_sensitive,
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def people(db):
    from dues.users.services import user_add

    return {role: user_add(username=f"u_{role}", role=role, password="ledger-pass-2025", person_name=name,
                           email=f"{role}@example.com", actor="test")[0]
            for role, name in (("sales", "Ravi Kumar"), ("ar_manager", "Mona"), ("collector", "Col"),
                               ("auditor", "Aud"))}


@pytest.fixture
def book(company, make_customer, post, people, home):
    """C001 (limit 1,00,000, group NORTH) owes 90,000 not yet due; C002 (NORTH, no limit) owes 30,000, due
    long ago; C003 owes nothing."""
    today = clock.today()
    c1 = make_customer("C001", credit_limit="100000", segment="North", salesperson="Ravi Kumar")
    c2 = make_customer("C002", segment="north", salesperson="Ravi Kumar")
    c3 = make_customer("C003", credit_limit="50000")
    post("invoice", "I-1", c1, today - timedelta(days=5), 90000)
    post("invoice", "I-2", c2, today - timedelta(days=100), 30000)
    return c1, c2, c3


def _mails(home):
    return sorted((email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in
                   (home / "outbox").glob("*.eml")), key=lambda m: str(m["Subject"]))


def test_group_limit_applies_with_the_customers_and_names_which_tripped(company, book):
    from dues.credit.holds import group_set
    from dues.credit.services import check

    c1, c2, _ = book
    today = clock.today()
    assert check(c1, Decimal(5000), today).allowed
    group_set(company=company, segment="NORTH", credit_limit="1,20,000", actor="test")
    decision = check(c1, Decimal(5000), today)
    assert not decision.allowed and decision.figures.group == "NORTH"
    assert decision.figures.group_exposure == Decimal("125000.00")
    assert decision.reasons == ("group NORTH credit limit 1,20,000.00 exceeded: group exposure 1,25,000.00 "
                                "(over by 5,000.00)",)
    decision = check(c1, Decimal(20000), today)  # both the customer's and the group's limits
    assert [r.split(" ")[0] for r in decision.reasons] == ["credit", "group"]
    group_set(company=company, segment="North", credit_limit="", overdue_days_allowed="10", actor="test")
    post_due = check(c2, Decimal(0), today)
    assert any("days overdue (allowed 30 days)" in r for r in post_due.reasons)
    with pytest.raises(DuesError, match="credit limit: not an amount"):
        group_set(company=company, segment="North", credit_limit="lots", actor="test")


def test_manual_hold_blocks_the_check_release_needs_a_manager_and_is_audited(company, book, people, home):
    from dues.audit.models import AuditRecord
    from dues.credit.holds import hold_place, hold_release
    from dues.credit.services import check

    _, _, c3 = book
    today = clock.today()
    with pytest.raises(DuesError, match="a reason is required"):
        hold_place(customer=c3, reason="  ", actor=people["collector"])
    with pytest.raises(PermissionDenied):
        hold_place(customer=c3, reason="cheque bounced", actor=people["auditor"])
    hold = hold_place(customer=c3, reason="cheque bounced", actor=people["collector"])
    decision = check(c3, Decimal(1), today)
    assert not decision.allowed and decision.figures.on_hold
    assert decision.reasons[0].startswith("on hold: cheque bounced")
    with pytest.raises(DuesError, match="already on credit hold"):
        hold_place(customer=c3, reason="again", actor="test")
    with pytest.raises(PermissionDenied):
        hold_release(customer=c3, reason="paid", until=today, actor=people["collector"])
    with pytest.raises(DuesError, match="from today on"):
        hold_release(customer=c3, reason="paid", until=today - timedelta(days=1), actor=people["ar_manager"])
    hold_release(customer=c3, reason="paid by RTGS", until=today + timedelta(days=7), actor=people["ar_manager"])
    assert check(c3, Decimal(1), today).allowed
    hold.refresh_from_db()
    assert hold.released_by == "u_ar_manager" and hold.release_until == today + timedelta(days=7)
    actions = list(AuditRecord.objects.filter(action__startswith="credit.").values_list("action", flat=True))
    assert actions == ["credit.hold", "credit.release"]
    assert not (home / "outbox").exists() or not list((home / "outbox").glob("*.eml"))  # C003 has no salesperson


def test_auto_hold_rule_is_idempotent_and_a_release_lapses(company, book, monkeypatch, home):
    from dues.audit.models import AuditRecord
    from dues.credit.holds import hold_release, holds_refresh
    from dues.credit.models import CreditHold
    from dues.credit.services import check

    c1, c2, c3 = book
    today = clock.today()
    placed = holds_refresh(company, on=today, actor="scheduler")
    assert [h.customer.code for h in placed] == ["C002"]
    assert "days overdue (allowed 30 days)" in placed[0].reason and placed[0].kind == "auto"
    assert holds_refresh(company, on=today) == []  # idempotent
    assert CreditHold.objects.count() == 1 and AuditRecord.objects.filter(action="credit.hold").count() == 1
    assert not check(c2, Decimal(0), today).allowed
    hold_release(customer=c2, reason="promise to pay", until=today + timedelta(days=3), actor="test")
    assert holds_refresh(company, on=today + timedelta(days=3)) == []  # released up to and including the day
    again = holds_refresh(company, on=today + timedelta(days=4))  # the release lapsed: the rule applies again
    assert [h.customer.code for h in again] == ["C002"] and CreditHold.objects.count() == 2


def test_sales_is_emailed_on_hold_and_release(company, book, home):
    from dues.credit.holds import hold_release, holds_refresh

    _, c2, _ = book
    holds_refresh(company, on=clock.today())
    hold_release(customer=c2, reason="promise to pay", until=clock.today() + timedelta(days=3), actor="test")
    released, placed = _mails(home)
    assert str(placed["Subject"]) == "Credit hold: C002 Customer C002" and placed["To"] == "sales@example.com"
    assert "days overdue" in placed.get_content()
    assert str(released["Subject"]).startswith("Credit hold released: C002")
    assert "promise to pay" in released.get_content()


def test_review_list_figures_and_decision(company, book, post, people):
    from dues.audit.models import AuditRecord
    from dues.credit.holds import limit_review_decide
    from dues.credit.selectors import review

    c1, _, c3 = book
    today = clock.today()
    post("invoice", "I-3", c3, today - timedelta(days=400), 30000)  # 60 % of 50,000: not on the list
    [row] = review(company, today)
    assert (row.code, row.exposure, row.use_percent) == ("C001", Decimal("90000.00"), 90)
    assert row.trend[-1][1] == Decimal("0.9000") and row.trend[0][1] == Decimal("0.0000")
    assert len(row.trend) == 7 and row.peak == Decimal("90000.00") and row.days_late is None
    assert row.suggested == Decimal("120000")  # 1.25 x 90,000 = 1,12,500, rounded up to 10,000
    with pytest.raises(PermissionDenied):
        limit_review_decide(customer=c1, approve=True, new_limit=row.suggested, actor=people["collector"])
    limit_review_decide(customer=c1, approve=True, new_limit=row.suggested, actor=people["ar_manager"])
    c1.refresh_from_db()
    assert c1.credit_limit == Decimal("120000.00")
    assert AuditRecord.objects.filter(action="credit.limit_review.approve").count() == 1
    assert review(company, today) == []  # 75 % of the new limit
    limit_review_decide(customer=c1, approve=False, actor=people["ar_manager"], note="not now")
    assert AuditRecord.objects.filter(action="credit.limit_review.reject").count() == 1


def test_suggested_limit_rule():
    from dues.credit.selectors import suggested_limit

    assert suggested_limit(Decimal(100000), Decimal(90000), 5.0) == Decimal(120000)
    assert suggested_limit(Decimal(100000), Decimal(90000), 20.0) == Decimal(90000)
    assert suggested_limit(Decimal(100000), Decimal(150000), 45.0) == Decimal(100000)


def test_cli_hold_release_holds_review(company, book, home):
    import json

    from click.testing import CliRunner

    from dues.cli import credit as _credit  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "op", "credit", "hold", "C003", "--reason", "cheque bounced"])
    assert r.exit_code == 0 and "C003 on credit hold" in r.output
    r = runner.invoke(cli, ["credit", "holds", "--refresh", "--format", "json"])
    assert [(h["customer"], h["kind"]) for h in json.loads(r.output)] == [("C003", "manual"), ("C002", "auto")]
    until = (clock.today() + timedelta(days=2)).isoformat()
    r = runner.invoke(cli, ["--user", "op", "credit", "release", "C003", "--reason", "paid", "--until", until])
    assert r.exit_code == 0 and "released until" in r.output
    r = runner.invoke(cli, ["credit", "check", "C003", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["figures"]["on_hold"] is False
    r = runner.invoke(cli, ["credit", "review", "--format", "json"])
    assert [(x["customer"], x["use_percent"], x["suggested_limit"]) for x in json.loads(r.output)] == \
        [("C001", 90, "120000.00")]
    r = runner.invoke(cli, ["credit", "review"])
    assert r.exit_code == 0 and "C001" in r.output and "90%" in r.output
    r = runner.invoke(cli, ["credit", "holds"])
    assert r.exit_code == 0 and "C002" in r.output and "C003" not in r.output
    r = runner.invoke(cli, ["--user", "op", "credit", "review", "--approve", "C001"])
    assert r.exit_code == 0 and "credit limit set to" in r.output
    r = runner.invoke(cli, ["--user", "op", "credit", "group", "North", "--limit", "50000"])
    assert r.exit_code == 0
    r = runner.invoke(cli, ["credit", "check", "C001", "--format", "json"])
    assert json.loads(r.output)["reasons"][0].startswith("group North credit limit")  # exit 1 via dues.cli.errors.run


def test_credit_hold_job_and_daily_report(company, book, home):
    from dues.jobs import reports
    from dues.jobs.models import DONE, JobRun
    from dues.jobs.services import execute, run_now

    run = run_now(job="credit_holds", actor="test")
    assert execute(run.id) == DONE and JobRun.objects.get(pk=run.id).result == "1 credit hold(s) placed"
    again = run_now(job="credit_holds", actor="test")
    assert execute(again.id) == DONE and JobRun.objects.get(pk=again.id).result == "0 credit hold(s) placed"
    pack = reports.build_pack(company=company, kind="daily", on=clock.today())
    assert [c for c, _, _ in pack.credit_holds] == ["C002"] and pack.credit_holds[0][2].startswith("auto: ")
    assert "on credit hold: 1" in reports.summary_text(pack)
    assert reports.render_xlsx(pack)[:2] == b"PK"


def _text(response) -> str:
    import re

    return re.sub(r"\s+", " ", response.content.decode())


def test_web_customer_banner_hold_and_release_by_role(client, company, book, people, home):
    from dues.credit.selectors import open_hold

    _, _, c3 = book
    client.force_login(people["auditor"])
    page = _text(client.get("/customers/C003/"))
    assert "Put on credit hold" not in page and "On credit hold" not in page
    client.post("/customers/C003/credit-hold/", {"action": "hold", "reason": "x"})  # refused: nothing held
    assert open_hold(c3) is None
    client.force_login(people["collector"])
    assert "Put on credit hold" in _text(client.get("/customers/C003/"))
    r = client.post("/customers/C003/credit-hold/", {"action": "hold", "reason": "cheque bounced"})
    assert r.status_code == 302 and open_hold(c3).reason == "cheque bounced"
    page = _text(client.get("/customers/C003/"))
    assert "On credit hold</strong> (manual)" in page and "cheque bounced" in page and "Release hold" not in page
    r = client.post("/customers/C003/credit-hold/", {"action": "release", "reason": "paid",
                                                     "until": clock.today().isoformat()}, follow=True)
    assert "may not release a credit hold" in _text(r) and open_hold(c3) is not None
    client.force_login(people["ar_manager"])
    assert "Release hold" in _text(client.get("/customers/C003/"))
    r = client.post("/customers/C003/credit-hold/", {"action": "release", "reason": "paid", "until": ""}, follow=True)
    assert "a date is required" in _text(r) and open_hold(c3) is not None
    r = client.post("/customers/C003/credit-hold/", {"action": "release", "reason": "paid",
                                                     "until": clock.today().isoformat()}, follow=True)
    assert "Hold released until" in _text(r) and open_hold(c3) is None
    assert "released until" in _text(client.get("/customers/C003/")) and "by u_ar_manager: paid." in _text(r)


def test_web_dashboard_lists_holds_and_the_review_page_changes_a_limit(client, company, book, people):
    from dues.credit.holds import holds_refresh

    c1, _, _ = book
    holds_refresh(company, on=clock.today())
    client.force_login(people["ar_manager"])
    page = _text(client.get("/"))
    assert "On credit hold: 1" in page and "Customer C002" in page and "/credit/review/" in page
    page = _text(client.get("/credit/review/"))
    assert "Near or over the limit: 1" in page and 'data-customer="C001"' in page and "90%" in page
    assert "1,20,000.00" in page
    r = client.post("/credit/review/", {"customer": "C001", "decision": "approve", "limit": "1,50,000"}, follow=True)
    assert "C001: credit limit changed." in _text(r)
    c1.refresh_from_db()
    assert c1.credit_limit == Decimal("150000.00")
    r = client.post("/credit/review/", {"customer": "C001", "decision": "approve", "limit": "lots"}, follow=True)
    assert "not an amount" in _text(r)
    client.force_login(people["collector"])
    assert client.get("/credit/review/").status_code == 403
    assert client.post("/credit/review/", {"customer": "C001", "decision": "approve", "limit": "1"}).status_code == 403
    client.force_login(people["sales"])  # Ravi Kumar sells to C001 and C002: sees C002's hold
    assert "On credit hold: 1" in _text(client.get("/"))


def test_review_page_is_paged_most_used_first_and_details_only_the_rows_shown(client, company, make_customer, post,
                                                                              people):
    """53 customers near their limit: 50 on the first page and 3 on the second, in order of use, each
    with its month-end history; the heading counts all 53 (the CLI's full list agrees)."""
    from dues.credit.selectors import review

    today = clock.today()
    for n in range(53):  # use 80.00 % + n × 0.25 %: R052 most used
        customer = make_customer(f"R{n:03d}", credit_limit="100000")
        post("invoice", f"RI-{n}", customer, today - timedelta(days=3), Decimal(80000) + n * 250)
    client.force_login(people["ar_manager"])
    first, second = _text(client.get("/credit/review/")), _text(client.get("/credit/review/?page=2"))
    assert "Near or over the limit: 53" in first and "Near or over the limit: 53" in second
    shown = [re.findall(r'data-customer="(R\d+)"', page) for page in (first, second)]
    assert shown[0] == [f"R{n:03d}" for n in range(52, 2, -1)] and shown[1] == ["R002", "R001", "R000"]
    assert "1–50 of 53" in first and "51–53 of 53" in second and "93%" in first and "80%" in second
    full = review(company, today)
    assert [r.code for r in full] == shown[0] + shown[1] and all(len(r.trend) == len(full[0].trend) for r in full)
    assert full[0].suggested == Decimal("120000") and full[-1].peak == Decimal("80000")
