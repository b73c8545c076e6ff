"""Dunning policies as data an AR manager edits (services and the web page): validated field by field,
audited with before and after, refused to the other roles, and used by the next run (issue 10)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def audits(object_type):
    from dues.audit.models import AuditRecord

    return [(r.action, r.object_id, json.loads(r.before_json or "null"), json.loads(r.after_json or "null"))
            for r in AuditRecord.objects.filter(object_type=object_type).order_by("seq")]


@pytest.fixture
def people(db):
    from dues.users.services import user_add

    made = {}
    for role in ("ar_manager", "admin", "collector", "billing", "sales", "auditor"):
        made[role], _ = user_add(username=f"p_{role}", role=role, password="pw-policy-2026", actor="test")
    return made


@pytest.fixture
def standard(company):
    from dues.collections.services.policies import policy_default

    return policy_default(company)


def problems(exc_info) -> dict:
    return {p.field: p.message for p in exc_info.value.problems}


# --- services ---------------------------------------------------------------------------------------------------


def test_policy_minimum_is_set_audited_and_validated(company, standard, people):
    from dues.collections.services.policies import policy_update
    from dues.core.errors import ValidationFailed

    policy_update(policy=standard, actor=people["ar_manager"], min_overdue="1,000")
    standard.refresh_from_db()
    assert standard.min_overdue == Decimal("1000.00")
    [(action, oid, before, after)] = audits("dunning_policy")
    assert (action, oid, before["min_overdue"], after["min_overdue"]) == ("update", "Standard", "500.00", "1000.00")
    assert after["steps"] == before["steps"] and len(after["steps"]) == 9
    with pytest.raises(ValidationFailed) as bad:
        policy_update(policy=standard, actor=people["ar_manager"], min_overdue="-5", name=" ")
    assert problems(bad) == {"min_overdue": "“-5” must be zero or more", "name": "give the policy a name"}


def test_steps_are_added_changed_and_removed_with_fields_named(company, standard, people, make_customer, post):
    from dues.collections.models import DunningAction, DunningStep
    from dues.collections.services.dunning import collect_run
    from dues.collections.services.policies import step_add, step_get, step_remove, step_update
    from dues.core.errors import ValidationFailed

    manager = people["ar_manager"]
    with pytest.raises(ValidationFailed) as bad:
        step_add(policy=standard, actor=manager, key="Reminder 3!", days="soon", channel="pigeon",
                 template="nope", min_overdue="x", cc="not-an-address")
    assert set(problems(bad)) == {"key", "days", "channel", "template", "min_overdue", "cc"}
    assert "one of email, sms" in problems(bad)["channel"] and "reminder-1" in problems(bad)["template"]
    with pytest.raises(ValidationFailed) as no_days:
        step_add(policy=standard, actor=manager, key="reminder-3", days=None, template="reminder-2")
    assert problems(no_days) == {"days": "how many days from the due date? (negative: before it)"}
    with pytest.raises(ValidationFailed) as dup:
        step_add(policy=standard, actor=manager, key="reminder-1", days=2)
    assert problems(dup) == {"key": "the policy already has a step “reminder-1”"}

    step_add(policy=standard, actor=manager, key="reminder-3", days=10, template="reminder-2",
             cc="boss@testtraders.example; @ar_manager")
    keys = list(standard.steps.filter(active=True).order_by("order").values_list("key", "offset_days"))
    assert keys[2:5] == [("reminder-2", 7), ("reminder-3", 10), ("statement", 15)]  # ordered by days
    assert step_get(standard, "reminder-3").cc == "boss@testtraders.example, @ar_manager"
    step_update(step=step_get(standard, "pre-due"), actor=manager, days=-5)
    assert step_get(standard, "pre-due").offset_days == -5
    _action, _oid, before, after = audits("dunning_policy")[-1]
    assert next(s for s in before["steps"] if s["key"] == "pre-due")["days"] == -3
    assert next(s for s in after["steps"] if s["key"] == "pre-due")["days"] == -5

    # a step that never sent anything is deleted; one with history is kept inactive and no longer runs
    assert step_remove(step=step_get(standard, "reminder-3"), actor=manager) == "deleted"
    shop = make_customer("C070", name="History Co", email="ap@history.example")
    due = collect_day = company_today(company)
    post("invoice", "INV-700", shop, due - timedelta(days=31), "9000", due_date=due - timedelta(days=1))
    collect_run(company=company, on=collect_day, actor="test")
    assert DunningAction.objects.filter(step_key="reminder-1").exists()
    assert step_remove(step=step_get(standard, "reminder-1"), actor=manager) == "retired"
    assert DunningStep.objects.get(policy=standard, key="reminder-1").active is False
    later = collect_run(company=company, on=collect_day + timedelta(days=1), actor="test", dry_run=True)
    assert [a.step for a in later.actions] == []  # no reminder-1 any more; reminder-2 not reached yet
    step_add(policy=standard, actor=manager, key="reminder-1", days=2)  # brought back
    assert step_get(standard, "reminder-1").offset_days == 2


def company_today(company):
    from dues import clock

    return clock.today()


@pytest.mark.parametrize("role", ["collector", "billing", "sales", "auditor"])
def test_only_ar_managers_and_admins_change_policies(company, standard, people, role):
    from dues.collections.services.policies import policy_update, segment_policy_set, step_add
    from dues.core.errors import PermissionDenied

    user = people[role]
    with pytest.raises(PermissionDenied):
        policy_update(policy=standard, actor=user, min_overdue="1")
    with pytest.raises(PermissionDenied):
        step_add(policy=standard, actor=user, key="x", days=1)
    with pytest.raises(PermissionDenied):
        segment_policy_set(company=company, segment="retail", policy=standard, actor=user)
    policy_update(policy=standard, actor=people["admin"], min_overdue="1")


def test_a_segment_gets_its_policy_and_the_run_follows(company, standard, people, make_customer, post, tmp_path,
                                                       monkeypatch):
    from dues.collections.services.dunning import collect_run
    from dues.collections.services.policies import policy_create, segment_policy_set

    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    manager = people["ar_manager"]
    big = policy_create(company=company, name="Key accounts", actor=manager, copy_from=standard,
                        min_overdue="50000")
    assert [s.key for s in big.steps.order_by("order")] == [s.key for s in standard.steps.order_by("order")]
    shop = make_customer("C071", name="Key Account Ltd", segment="Key", email="ap@key.example")
    on = company_today(company)
    post("invoice", "INV-710", shop, on - timedelta(days=40), "20000", due_date=on - timedelta(days=2))
    assert collect_run(company=company, on=on, actor="test", dry_run=True).count("pending") == 1
    segment_policy_set(company=company, segment="key", policy=big, actor=manager)
    [skipped] = collect_run(company=company, on=on, actor="test", dry_run=True).actions
    assert skipped.status == "skipped" and "minimum 50000.00" in skipped.reason
    assert audits("segment_policy") == [("create", "key", None, {"segment": "key", "policy": "Key accounts"})]
    segment_policy_set(company=company, segment="KEY", policy=None, actor=manager)
    assert audits("segment_policy")[-1] == ("delete", "KEY", {"segment": "key", "policy": "Key accounts"}, None)
    assert collect_run(company=company, on=on, actor="test", dry_run=True).count("pending") == 1


# --- the web page ---------------------------------------------------------------------------------------------------


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_manager_edits_a_policy_on_the_web(client, company, standard, people):
    client.force_login(people["ar_manager"])
    page = text(client.get("/collections/policies/"))
    assert "Standard" in page and "₹500.00" in page and "New policy" in page
    url = f"/collections/policies/{standard.pk}/"
    page = text(client.get(url))
    assert 'name="min_overdue"' in page and "reminder-1" in page and "Add a step" in page

    bad = client.post(url, {"action": "policy", "name": "Standard", "min_overdue": "lots"})
    assert bad.status_code == 400 and "“lots” is not an amount" in text(bad)
    assert client.post(url, {"action": "policy", "name": "Standard", "min_overdue": "750"}).status_code == 302
    standard.refresh_from_db()
    assert standard.min_overdue == Decimal("750.00")

    bad = client.post(url, {"action": "step", "key": "escalation", "days": "30", "channel": "email",
                            "template": "escalation", "min_overdue": "0", "cc": "@ar_manager, legal at firm"})
    assert bad.status_code == 400 and "“legal at firm” is not an e-mail address" in text(bad)
    ok = client.post(url, {"action": "step", "key": "escalation", "days": "25", "channel": "email",
                           "template": "escalation", "min_overdue": "0", "cc": "@ar_manager, legal@firm.example"})
    assert ok.status_code == 302
    step = standard.steps.get(key="escalation")
    assert (step.offset_days, step.cc) == (25, "@ar_manager, legal@firm.example")
    added = client.post(url, {"action": "add", "key": "whatsapp-1", "days": "3", "channel": "whatsapp",
                              "template": "sms-reminder", "min_overdue": "0", "cc": ""})
    assert added.status_code == 302 and standard.steps.filter(key="whatsapp-1", channel="whatsapp").exists()
    assert client.post(url, {"action": "remove", "key": "whatsapp-1"}).status_code == 302
    assert not standard.steps.filter(key="whatsapp-1").exists()
    assert [a[0] for a in audits("dunning_policy")] == ["update"] * 4

    made = client.post("/collections/policies/", {"action": "create", "name": "Retail", "copy_from": "",
                                                  "min_overdue": "1000"})
    assert made.status_code == 302
    from dues.collections.models import DunningPolicy

    retail = DunningPolicy.objects.get(name="Retail")
    assert client.post("/collections/policies/", {"action": "segment", "segment": "Retail",
                                                  "policy": retail.pk}).status_code == 302
    assert retail.segments.get().segment == "Retail"
    dup = client.post("/collections/policies/", {"action": "create", "name": "retail", "min_overdue": "1"})
    assert dup.status_code == 400 and "already a policy called" in text(dup)


@pytest.mark.parametrize("role", ["collector", "auditor", "sales"])
def test_other_roles_read_policies_but_cannot_change_them(client, company, standard, people, role):
    client.force_login(people[role])
    url = f"/collections/policies/{standard.pk}/"
    page = text(client.get(url))
    assert "reminder-1" in page and 'name="min_overdue"' not in page and "Only an admin or an AR manager" in page
    refused = client.post(url, {"action": "policy", "name": "Mine", "min_overdue": "1"})
    assert refused.status_code == 403
    refused = client.post("/collections/policies/", {"action": "segment", "segment": "x", "policy": standard.pk})
    assert refused.status_code == 403
    standard.refresh_from_db()
    assert (standard.name, standard.min_overdue) == ("Standard", Decimal("500.00"))
    assert audits("dunning_policy") == [] and audits("segment_policy") == []
