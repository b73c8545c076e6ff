"""The IRP e-invoice payload (schema version 1.1) of an approved bill, checked before it leaves dues.

Two checks, both must pass: the JSON schema (``schema/einvoice-1.1.schema.json``, see SOURCE.md there)
and the IRP's consistency rules the schema cannot say — the items' values sum to the values block,
each tax is the assessable value times its rate (to the paisa, a one-rupee tolerance as the IRP
allows), CGST equals SGST, the item total is assessable value plus taxes, and the invoice total is the
sum of the items plus the round-off.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from dues.core.errors import DuesError, Problem, ValidationFailed

SCHEMA = Path(__file__).with_name("schema") / "einvoice-1.1.schema.json"
TOLERANCE = Decimal(1)  # the IRP's own tolerance on computed tax amounts and totals, in rupees


@cache
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _n(value: Decimal) -> float | int:
    """A JSON number with at most two decimals (the IRP reads numbers, not strings)."""
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(q) if q == q.to_integral_value() else float(q)


def _unit(uom: str) -> str:
    """The IRP wants a unit quantity code of 3 to 8 letters (NOS, MTR, KGS, ...); anything else is OTH."""
    u = (uom or "").upper()
    return u if 3 <= len(u) <= 8 else "OTH"


def _pin(text: str) -> int | None:
    return int(text) if text and text.isdigit() and len(text) == 6 else None


def einvoice_payload(company, bill, *, settings=None, lines=None) -> dict:
    """The IRP request for an approved ``bill`` — or an approved credit/debit note (``Typ`` CRN/DBN, with
    ``RefDtls.PrecDocDtls`` naming the original invoice); raises ``ValidationFailed`` naming every problem."""
    from .models import Note
    from .services import billing_settings

    if bill.status != "approved" or not bill.number:
        raise DuesError(f"{bill.label} is a {bill.status} bill: only an approved, numbered invoice gets an IRN")
    note = bill if isinstance(bill, Note) else None
    settings = settings or billing_settings(company)
    lines = lines if lines is not None else list(bill.lines.order_by("position"))
    customer = bill.customer
    items = []
    for ln in lines:
        items.append({
            "SlNo": str(ln.position), "PrdDesc": ln.description[:300], "IsServc": "Y" if ln.is_service else "N",
            "HsnCd": ln.hsn, "Qty": float(ln.quantity), "Unit": _unit(ln.uom),
            "UnitPrice": float(ln.rate), "TotAmt": _n(ln.gross), "Discount": _n(ln.discount), "PreTaxVal": 0,
            "AssAmt": _n(ln.taxable), "GstRt": float(ln.gst_rate), "IgstAmt": _n(ln.igst), "CgstAmt": _n(ln.cgst),
            "SgstAmt": _n(ln.sgst), "CesRt": 0, "CesAmt": 0, "CesNonAdvlAmt": 0, "StateCesRt": 0, "StateCesAmt": 0,
            "StateCesNonAdvlAmt": 0, "OthChrg": 0, "TotItemVal": _n(ln.taxable + ln.cgst + ln.sgst + ln.igst),
        })
    seller = {"Gstin": company.gstin, "LglNm": company.name[:100], "Addr1": settings.address[:100],
              "Loc": settings.city[:50], "Pin": _pin(settings.pin), "Stcd": company.state_code}
    buyer = {"Gstin": customer.gstin or "URP", "LglNm": customer.name[:100], "Pos": bill.place_of_supply,
             "Addr1": customer.address[:100], "Loc": customer.city[:50], "Stcd": customer.state_code}
    if _pin(customer.pin):
        buyer["Pin"] = _pin(customer.pin)
    payload = {
        "Version": "1.1",
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B", "RegRev": "N", "IgstOnIntra": "N"},
        "DocDtls": {"Typ": ("CRN" if note.kind == Note.CREDIT else "DBN") if note else "INV", "No": bill.number,
                    "Dt": bill.date.strftime("%d/%m/%Y")},
        "SellerDtls": {k: v for k, v in seller.items() if v not in ("", None)},
        "BuyerDtls": {k: v for k, v in buyer.items() if v not in ("", None)},
        "ItemList": items,
        "ValDtls": {"AssVal": _n(bill.taxable), "CgstVal": _n(bill.cgst), "SgstVal": _n(bill.sgst),
                    "IgstVal": _n(bill.igst), "CesVal": 0, "StCesVal": 0, "Discount": 0, "OthChrg": 0,
                    "RndOffAmt": _n(bill.round_off), "TotInvVal": _n(bill.total)},
    }
    if note:
        payload["RefDtls"] = {"InvRm": note.reason_text[:100], "PrecDocDtls": [
            {"InvNo": note.bill.number, "InvDt": note.bill.date.strftime("%d/%m/%Y")}]}
    problems = einvoice_problems(payload)
    if problems:
        raise ValidationFailed([Problem(p, source=f"e-invoice {bill.number}") for p in problems])
    return payload


def einvoice_problems(payload: dict) -> list[str]:
    """Every schema error and consistency-rule breach of an IRP payload (empty: it is good)."""
    problems = [f"{'/'.join(str(x) for x in e.absolute_path) or 'payload'}: {e.message}"
                for e in sorted(_validator().iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return problems
    d = lambda x: Decimal(str(x))  # noqa: E731
    items, val = payload["ItemList"], payload["ValDtls"]
    sums = {k: sum((d(i.get(k, 0)) for i in items), Decimal(0)) for k in ("AssAmt", "CgstAmt", "SgstAmt", "IgstAmt")}
    for item_key, val_key in (("AssAmt", "AssVal"), ("CgstAmt", "CgstVal"), ("SgstAmt", "SgstVal"),
                              ("IgstAmt", "IgstVal")):
        if sums[item_key] != d(val.get(val_key, 0)):
            problems.append(f"ValDtls/{val_key}: {val.get(val_key, 0)} is not the items' {item_key} total {sums[item_key]}")
    for i in items:
        where = f"ItemList/{i['SlNo']}"
        ass, rate = d(i["AssAmt"]), d(i["GstRt"])
        tax = d(i.get("IgstAmt", 0)) + d(i.get("CgstAmt", 0)) + d(i.get("SgstAmt", 0))
        if abs(tax - ass * rate / 100) > TOLERANCE:
            problems.append(f"{where}: tax {tax} is not assessable value {ass} x {rate}%")
        if d(i.get("CgstAmt", 0)) != d(i.get("SgstAmt", 0)):
            problems.append(f"{where}: CGST {i.get('CgstAmt', 0)} differs from SGST {i.get('SgstAmt', 0)}")
        if d(i.get("IgstAmt", 0)) and (d(i.get("CgstAmt", 0)) or d(i.get("SgstAmt", 0))):
            problems.append(f"{where}: IGST and CGST/SGST on one item")
        expected = ass + tax + d(i.get("CesAmt", 0)) + d(i.get("StateCesAmt", 0)) + d(i.get("OthChrg", 0))
        if abs(d(i["TotItemVal"]) - expected) > TOLERANCE:
            problems.append(f"{where}: TotItemVal {i['TotItemVal']} is not assessable value + taxes {expected}")
        if abs(d(i["TotAmt"]) - d(i.get("Discount", 0)) - ass) > TOLERANCE:
            problems.append(f"{where}: AssAmt {ass} is not TotAmt {i['TotAmt']} less Discount {i.get('Discount', 0)}")
    if d(val.get("CgstVal", 0)) != d(val.get("SgstVal", 0)):
        problems.append(f"ValDtls: CGST {val.get('CgstVal', 0)} differs from SGST {val.get('SgstVal', 0)}")
    total = sum((d(i["TotItemVal"]) for i in items), Decimal(0)) + d(val.get("RndOffAmt", 0)) + d(
        val.get("OthChrg", 0)) - d(val.get("Discount", 0))
    if abs(total - d(val["TotInvVal"])) > TOLERANCE:
        problems.append(f"ValDtls/TotInvVal: {val['TotInvVal']} is not the items' total plus round-off {total}")
    return problems
