"""Roles: what each may do is enforced by the services, not by hidden buttons; users (sign-in: test_sign_in)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from dues.audit.models import AuditRecord
from dues.core.errors import DuesError, PermissionDenied
from dues.customers.models import Customer
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import DocumentDraft, allocation_create, document_cancel, document_post
from dues.users.permissions import can, customer_visible, customers_visible, role_of
from dues.users.roles import CAPABILITIES, ROLES
from dues.users.services import user_add

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

PASSWORD = "ledger-pass-2025"


@pytest.fixture
def users(db):
    return {role: user_add(username=f"u_{role}", role=role, password=PASSWORD, person_name="Ravi Kumar",
                           actor="test")[0]
            for role in ROLES}


@pytest.fixture
def books(company, make_customer, post):
    ravi = make_customer("C001", salesperson="Ravi Kumar")
    other = make_customer("C002", salesperson="Anita Desai")
    post("invoice", "INV-1", ravi, "2025-04-01", "10000")
    post("invoice", "INV-2", other, "2025-04-01", "5000")
    post("receipt", "RCT-1", ravi, "2025-04-20", "4000")
    return ravi, other


def draft(kind, number, customer, amount="100", **fields):
    return DocumentDraft(kind=kind, number=number, customer=customer, date=date(2025, 5, 1), amount=Decimal(amount),
                         **fields)


# who may post what: (role, kind) -> allowed
POSTING = {
    "admin": {"invoice", "receipt", "credit_note", "write_off"},
    "ar_manager": {"invoice", "receipt", "credit_note", "write_off"},
    "billing": {"invoice", "credit_note"},
    "collector": {"receipt"},
    "sales": set(),
    "auditor": set(),
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("kind", ["invoice", "receipt", "credit_note", "write_off"])
def test_posting_is_refused_unless_the_role_allows_it(company, books, users, role, kind):
    ravi, _ = books
    before = (Document.objects.count(), AuditRecord.objects.count())
    number = f"{kind[:3].upper()}-{role}"
    if kind in POSTING[role]:
        doc = document_post(draft(kind, number, ravi), company=company, actor=users[role])
        assert doc.created_by == users[role].username
        assert Document.objects.count() == before[0] + 1
    else:
        with pytest.raises(PermissionDenied, match=f"u_{role}"):
            document_post(draft(kind, number, ravi), company=company, actor=users[role])
        assert (Document.objects.count(), AuditRecord.objects.count()) == before


@pytest.mark.parametrize("role", list(ROLES))
def test_allocating_and_cancelling_follow_the_roles(company, books, users, role):
    ravi, _ = books
    credit = OpenItem.objects.get(document__number="RCT-1")
    debit = OpenItem.objects.get(document__number="INV-1")
    may_allocate = role in {"admin", "ar_manager", "collector"}
    if may_allocate:
        allocation_create(credit_item=credit, debit_item=debit, amount=Decimal("1000"), on=date(2025, 4, 20),
                          actor=users[role])
        assert OpenItem.objects.get(pk=debit.pk).residual == Decimal("9000")
    else:
        with pytest.raises(PermissionDenied):
            allocation_create(credit_item=credit, debit_item=debit, amount=Decimal("1000"), on=date(2025, 4, 20),
                              actor=users[role])
        assert not Allocation.objects.exists()
    invoice = Document.objects.get(number="INV-2")
    if role in {"admin", "ar_manager", "billing"}:
        document_cancel(document=invoice, on=date(2025, 5, 1), reason="raised twice", actor=users[role])
        assert Document.objects.get(pk=invoice.pk).status == Document.CANCELLED
    else:
        with pytest.raises(PermissionDenied):
            document_cancel(document=invoice, on=date(2025, 5, 1), reason="raised twice", actor=users[role])
        assert Document.objects.get(pk=invoice.pk).status == Document.POSTED


def test_sales_sees_only_their_customers(company, books, users):
    ravi, other = books
    everyone = Customer.objects.filter(company=company)
    assert list(customers_visible(users["sales"], everyone)) == [ravi]
    assert customer_visible(users["sales"], ravi) and not customer_visible(users["sales"], other)
    for role in ("collector", "auditor", "billing", "ar_manager"):
        assert customers_visible(users[role], everyone).count() == 2


def test_capabilities_of_each_role(users):
    assert all(can(users["admin"], c) for c in CAPABILITIES)
    assert can(users["auditor"], "audit.view") and not can(users["auditor"], "receipts.post")
    assert not any(can(users["auditor"], c) for c in CAPABILITIES if c.endswith((".post", ".change", ".act", "manage")))
    assert can(users["collector"], "collections.act") and not can(users["collector"], "audit.view")
    assert not can(users["sales"], "customers.view_all")
    assert can("cli:operator", "settings.change")  # the CLI operator holds every capability


def test_a_user_without_a_role_may_do_nothing(company, books):
    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD)
    assert role_of(nobody) is None
    assert not can(nobody, "desk.view")
    assert customers_visible(nobody, Customer.objects.all()).count() == 0
    with pytest.raises(PermissionDenied, match="no role"):
        document_post(draft("receipt", "RCT-9", books[0]), company=company, actor=nobody)


def test_user_add_validates_and_audits(users):
    with pytest.raises(DuesError, match="unknown role"):
        user_add(username="x", role="boss", password=PASSWORD, actor="test")
    with pytest.raises(DuesError, match="too short"):
        user_add(username="x", role="collector", password="short", actor="test")
    with pytest.raises(PermissionDenied):
        user_add(username="x", role="admin", password=PASSWORD, actor=users["ar_manager"])
    user, created = user_add(username="u_collector", role="ar_manager", password=PASSWORD + "!", actor=users["admin"])
    assert not created and role_of(get_user_model().objects.get(pk=user.pk)) == "ar_manager"
    record = AuditRecord.objects.filter(object_type="user", object_id="u_collector").order_by("-seq").first()
    assert record.action == "update" and record.actor == "u_admin" and PASSWORD not in record.after_json
    assert get_user_model().objects.get(username="u_admin").is_staff
    assert not get_user_model().objects.get(username="u_auditor").is_staff


def test_web_pages_refuse_a_user_without_a_role(client, company):
    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD)
    client.force_login(nobody)
    response = client.get("/")
    assert response.status_code == 403
    assert "no role" in response.content.decode()


def test_sales_gets_403_on_another_salespersons_customer(client, books, users):
    client.force_login(users["sales"])
    assert client.get("/customers/C001/").status_code == 200
    assert client.get("/customers/C002/").status_code == 403
    listing = client.get("/customers/").content.decode()
    assert "C001" in listing and "C002" not in listing


def test_passwords_are_hashed_with_argon2():
    import dues.settings

    assert dues.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
