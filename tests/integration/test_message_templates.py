"""Message templates: the company's own wording per language used by the dunning run, validated and
audited saves (admin and AR manager only), the editor with a real-customer preview, and the
escalated customers on the manager's dashboard."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = date(2026, 11, 30)


class Recorder:
    """A transport keeping what it was given."""

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        return "recorded"

    def close(self):
        pass

    def to(self, code):
        return [m for m in self.sent if m.customer == code]


def make_user(username, role, person=""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(username, password="templates-2026")
    UserRole.objects.create(user=user, role=role, person_name=person)
    return user


@pytest.fixture
def manager(db):
    return make_user("asha", "ar_manager")


@pytest.fixture
def books(company, make_customer, post):
    """C001 (Hindi) and C002 (English) and C003 (Marathi): each one invoice 1 day overdue on D."""
    from dues.collections.services.policies import customer_collections_update

    customers = {}
    for code, lang, amount in (("C001", "hi", "1234567.50"), ("C002", "en", "250000"), ("C003", "mr", "99999")):
        c = make_customer(code, name=f"Customer {code}", email=f"{code.lower()}@example.com")
        due = D - timedelta(days=1)
        post("invoice", f"INV-{code}", c, due - timedelta(days=30), amount, due_date=due)
        if lang != "en":
            customer_collections_update(customer=c, actor="test", language=lang)
        customers[code] = c
    return customers


def save(company, actor, language, subject, body, name="reminder-1"):
    from dues.collections.services.messages import message_template_save

    return message_template_save(company=company, name=name, language=language, subject=subject, body=body,
                                 actor=actor)


def test_the_run_uses_the_override_in_the_customers_language_then_english_then_the_file(company, books, manager):
    from dues.collections.services.dunning import collect_run

    save(company, manager, "hi", "भुगतान अनुस्मारक {{ total|money }}", "नमस्ते {{ contact.name }}, {{ items|length }} बिल बकाया।")
    save(company, manager, "en", "Please pay {{ total|money }} ({{ customer.code }})", "Dear {{ contact.name }}, pay up.")
    recorder = Recorder()
    collect_run(company=company, on=D, actor="test", transports={"email": recorder})
    (hindi,) = recorder.to("C001")
    assert hindi.subject == "भुगतान अनुस्मारक ₹12,34,567.50"
    assert hindi.body.startswith("नमस्ते")
    (english,) = recorder.to("C002")
    assert english.subject == "Please pay ₹2,50,000.00 (C002)"
    (marathi,) = recorder.to("C003")  # no Marathi wording: the company's English one
    assert marathi.subject == "Please pay ₹99,999.00 (C003)"


def test_without_an_override_the_file_template_is_used_and_reset_goes_back_to_it(company, books, manager):
    from dues.collections.models import MessageTemplate
    from dues.collections.services.dunning import collect_run
    from dues.collections.services.messages import message_template_reset

    save(company, manager, "hi", "Hindi {{ total|money }}", "Hindi body")
    assert message_template_reset(company=company, name="reminder-1", language="hi", actor=manager) is True
    assert not MessageTemplate.objects.exists()
    recorder = Recorder()
    collect_run(company=company, on=D, actor="test", transports={"email": recorder})
    (hindi,) = recorder.to("C001")
    assert hindi.subject == "Payment reminder: ₹12,34,567.50 overdue (C001)"
    assert "INV-C001" in hindi.body


def test_an_invalid_template_is_refused_with_the_error_and_nothing_saved(company, manager):
    from dues.audit.models import AuditRecord
    from dues.collections.models import MessageTemplate
    from dues.core.errors import ValidationFailed

    before = AuditRecord.objects.count()
    with pytest.raises(ValidationFailed) as syntax:
        save(company, manager, "en", "Reminder", "Dear {{ contact.name }\n{% for i in items %}")
    assert any(p.field == "body" for p in syntax.value.problems)
    with pytest.raises(ValidationFailed) as undefined:
        save(company, manager, "en", "Reminder {{ no_such_thing }}", "Body")
    assert [p.field for p in undefined.value.problems] == ["subject"]
    with pytest.raises(ValidationFailed) as unsafe:  # the sandbox refuses
        save(company, manager, "en", "Hi", "{{ company.__class__.__mro__ }}")
    assert unsafe.value.problems[0].field == "body"
    assert not MessageTemplate.objects.exists()
    assert AuditRecord.objects.count() == before


@pytest.mark.parametrize(("body", "reason"), [
    ("{{ 'a' * 50000000 }}", "may not build a value over 100,000 characters"),
    ("{{ 50000000 * 'a' }}", "may not build a value over 100,000 characters"),
    ("{{ [1] * 50000000 }}", "may not build a value over 100,000 characters"),
    ("{{ 9 ** 9999999 }}", "the power operator is not allowed"),
    ("{% for i in range(99) %}{% for j in range(99) %}{{ customer.name * 20 }}{% endfor %}{% endfor %}",
     "the message is over 100,000 characters"),
    ("{{ company.customers.all() }}", "has no attribute 'customers'"),
    ("{{ company.account_set }}", "has no attribute 'account_set'"),
])
def test_a_template_cannot_make_unbounded_work_or_reach_other_customers(company, manager, body, reason):
    """Templates get plain values for the one customer and the company's name: no model to walk from, and
    no operation that builds a huge value (refused before it is built, so it costs nothing)."""
    from dues.collections.models import MessageTemplate
    from dues.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        save(company, manager, "en", "Reminder", body)
    assert reason in str(refused.value.problems[0]) and refused.value.problems[0].field == "body"
    assert not MessageTemplate.objects.exists()


def test_the_company_a_template_sees_is_its_name_and_gstin(company, books, manager):
    from dues.collections.services.messages import render_message, sample_message_context, template_overrides

    save(company, manager, "en", "From {{ company.name }}", "GSTIN {{ company.gstin or 'none' }} {{ company.currency }}")
    context = sample_message_context(company, "reminder-1")
    subject, body = render_message("reminder-1", context, overrides=template_overrides(company))
    assert subject == f"From {company.name}" and body == f"GSTIN {company.gstin or 'none'} INR\n"


def test_saving_is_audited(company, manager):
    from dues.audit.models import AuditRecord

    save(company, manager, "mr", "Smaranpatra {{ total|money }}", "Body {{ outstanding|money }}")
    record = AuditRecord.objects.filter(object_type="message_template").latest("pk")
    assert record.object_id == "reminder-1/mr"
    assert json.loads(record.after_json)["subject"] == "Smaranpatra {{ total|money }}"
    assert record.actor == "asha"


@pytest.fixture
def web(client):
    def login(role, person=""):
        client.force_login(make_user(f"u-{role}", role, person))
        return client

    return login


def test_editor_preview_shows_real_figures_for_the_first_overdue_customer(company, books, web):
    client = web("ar_manager")
    url = reverse("web:template_edit", args=["reminder-1", "en"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Payment reminder: {{ overdue_total|money }}" in page.content.decode()
    response = client.post(url, {"action": "preview", "subject": "Due {{ total|money }} from {{ customer.name }}",
                                 "body": "{% for i in items %}{{ i.number }} {{ i.residual|amount }}\n{% endfor %}",
                                 "customer": ""}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Due ₹12,34,567.50 from Customer C001" in text  # C001 is the first customer with overdue items
    assert "INV-C001 12,34,567.50" in text
    other = client.post(url, {"action": "preview", "subject": "Due {{ total|money }}", "body": "x",
                              "customer": "C002"}, HTTP_HX_REQUEST="true")
    assert "Due ₹2,50,000.00" in other.content.decode()
    bad = client.post(url, {"action": "preview", "subject": "Due {{ total|money", "body": "x", "customer": ""},
                      HTTP_HX_REQUEST="true")
    assert "field__error" in bad.content.decode()


def test_saving_from_the_page_and_errors_next_to_the_field(company, books, web):
    from dues.collections.models import MessageTemplate

    client = web("ar_manager")
    url = reverse("web:template_edit", args=["reminder-1", "hi"])
    bad = client.post(url, {"action": "save", "subject": "Hi", "body": "{% if %}"})
    assert bad.status_code == 400
    assert 'id="t-body-error"' in bad.content.decode()
    assert not MessageTemplate.objects.exists()
    ok = client.post(url, {"action": "save", "subject": "नमस्ते {{ total|money }}", "body": "बकाया"})
    assert ok.status_code == 302
    saved = MessageTemplate.objects.get()
    assert (saved.name, saved.language, saved.updated_by) == ("reminder-1", "hi", "u-ar_manager")
    listing = client.get(reverse("web:templates")).content.decode()
    assert "hi · customised" in listing
    assert "reminder-1, " not in listing and "final-notice, final-letter" in listing  # the steps using each
    assert "sms-reminder" in listing  # shipped, not used by a policy yet
    client.post(url, {"action": "reset"})
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize("role", ["collector", "billing", "sales", "auditor"])
def test_other_roles_cannot_save(company, books, web, role):
    from dues.collections.models import MessageTemplate
    from dues.core.errors import PermissionDenied

    client = web(role)
    url = reverse("web:template_edit", args=["reminder-1", "en"])
    response = client.post(url, {"action": "save", "subject": "Pay now", "body": "Pay now"})
    assert response.status_code == 403
    assert not MessageTemplate.objects.exists()
    user = get_user_model().objects.get(username=f"u-{role}")
    with pytest.raises(PermissionDenied):
        save(company, user, "en", "Pay now", "Pay now")
    assert not MessageTemplate.objects.exists()
    listing = client.get(reverse("web:templates"))
    assert listing.status_code == (200 if role == "collector" else 403)
    save(company, make_user("boss", "ar_manager"), "en", "Kept", "Kept")
    assert client.post(url, {"action": "reset"}).status_code == 403
    assert MessageTemplate.objects.get().subject == "Kept"  # the refused reset deleted nothing


def test_admin_can_save(company, web):
    client = web("admin")
    url = reverse("web:template_edit", args=["reminder-2", "en"])
    assert client.post(url, {"action": "save", "subject": "Second", "body": "Body"}).status_code == 302


def test_collector_can_preview_but_sees_no_save_button(company, books, web):
    client = web("collector")
    url = reverse("web:template_edit", args=["reminder-1", "en"])
    page = client.get(url).content.decode()
    assert 'value="save"' not in page
    preview = client.post(url, {"action": "preview", "subject": "Due {{ total|money }}", "body": "x", "customer": "C002"},
                          HTTP_HX_REQUEST="true")
    assert "Due ₹2,50,000.00" in preview.content.decode()


def test_unknown_template_or_language_is_404(company, web):
    client = web("ar_manager")
    assert client.get(reverse("web:template_edit", args=["nope", "en"])).status_code == 404
    assert client.get(reverse("web:template_edit", args=["reminder-1", "xx"])).status_code == 404
    assert client.get(reverse("web:template_edit", args=["_items", "en"])).status_code == 404


def test_dashboard_shows_escalated_customers_to_the_manager_only(company, books, web):
    from dues.collections.services.escalation import escalate

    escalate(customer=books["C002"], to="ar_manager", reason="Promised thrice, paid nothing", actor="test",
             on=D + timedelta(days=10))
    manager = web("ar_manager").get(reverse("web:dashboard")).content.decode()
    assert "Escalated" in manager and "Promised thrice, paid nothing" in manager
    assert "2,50,000.00" in manager
    for role in ("collector", "sales"):
        page = web(role).get(reverse("web:dashboard")).content.decode()
        assert "Promised thrice, paid nothing" not in page


def test_dashboard_panel_is_not_stale_after_an_escalation(company, books, web):
    from dues.collections.services.escalation import escalate

    client = web("ar_manager")
    assert "Nothing is escalated" in client.get(reverse("web:dashboard")).content.decode()
    escalate(customer=books["C001"], to="legal", reason="Cheque bounced", actor="test", on=D)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "Cheque bounced" in page and "12,34,567.50" in page


def test_amounts_stay_decimal_in_the_sample_context(company):
    from dues.collections.services.messages import sample_message_context

    context = sample_message_context(company, "reminder-1")
    assert isinstance(context["total"], Decimal)


def test_preview_without_javascript_reloads_the_page_with_it(company, books, web):
    client = web("ar_manager")
    url = reverse("web:template_edit", args=["reminder-1", "en"])
    page = client.post(url, {"action": "preview", "subject": "Due {{ total|money }}", "body": "Hello {{ customer.code }}",
                             "customer": "C003"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "<textarea" in text and "Due ₹99,999.00" in text and "Hello C003" in text
    missing = client.post(url, {"action": "preview", "subject": "x", "body": "y", "customer": "NOPE"})
    assert "No customer “NOPE”" in missing.content.decode()


def test_a_collector_previews_any_customer(company, make_customer, post, web):
    mine = make_customer("S001", name="Mine Ltd", salesperson="Rahul")
    make_customer("A001", name="Not Mine Ltd", salesperson="Someone")
    post("invoice", "INV-S1", mine, D - timedelta(days=40), "5000", due_date=D - timedelta(days=10))
    client = web("collector")
    url = reverse("web:template_edit", args=["reminder-1", "en"])
    other = client.post(url, {"action": "preview", "subject": "x {{ customer.name }}", "body": "y", "customer": "A001"},
                        HTTP_HX_REQUEST="true")
    assert "x Not Mine Ltd" in other.content.decode()  # a collector sees every customer
