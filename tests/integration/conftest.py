"""Fixtures shared by the integration tests of cash application (engine and web workbench)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dues.banking.services import bank_statement_import

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
STATEMENT = ("Account No :50100123456789\n\n" + HEADER +
             # INV-1 net of 2% TDS on taxable 1,00,000 (not on the 1,18,000 total)
             '01/06/25,NEFT CR-ICIC0000456-SHREE GANESH TRADERS PVT LTD-N100000000001,N100000000001,01/06/25,,'
             '"1,16,000.00","2,16,000.00"\n'
             # exactly INV-3, by a payer whose name says nothing; the invoice number does
             '02/06/25,IMPS-512345678901-KAVERI GROUP HOLDINGS-SBI-XXXX9876 bill no 3,512345678901,02/06/25,,'
             '"11,800.00","2,27,800.00"\n'
             # two invoices of the same amount: must not be auto-posted
             '03/06/25,UPI/412345678901/PATIL STEEL/patil@okaxis/Axis Bank,412345678901,03/06/25,,"5,900.00",'
             '"2,33,700.00"\n'
             # not a customer at all
             '04/06/25,INT.PD:01-03-2025 TO 31-05-2025,,04/06/25,,"1,234.00","2,34,934.00"\n')
NEXT = ("Account No :50100123456789\n\n" + HEADER +
        '10/06/25,UPI/412345678999/PATIL S/patil@okaxis/Axis Bank,412345678999,10/06/25,,"5,900.00","2,40,834.00"\n')


@pytest.fixture
def bank_book(company, make_customer, post):
    """Three customers with open invoices and the June HDFC statement of their credits, imported."""
    c1 = make_customer("C001", name="Shree Ganesh Traders")
    c2 = make_customer("C002", name="Kaveri Distributors")
    c3 = make_customer("C003", name="Patil Steel Works")
    post("invoice", "INV-1", c1, "2025-04-01", "118000.00", taxable_value=Decimal("100000.00"))
    post("invoice", "INV-2", c1, "2025-05-15", "5900.00", taxable_value=Decimal("5000.00"))
    post("invoice", "INV-3", c2, "2025-05-01", "11800.00", taxable_value=Decimal("10000.00"))
    post("invoice", "INV-4", c3, "2025-05-02", "5900.00", taxable_value=Decimal("5000.00"))
    post("invoice", "INV-5", c3, "2025-05-03", "5900.00", taxable_value=Decimal("5000.00"))
    bank_statement_import(company=company, path="june.csv", data=STATEMENT.encode(), preset="hdfc", actor="test")
    return {"C001": c1, "C002": c2, "C003": c3}
