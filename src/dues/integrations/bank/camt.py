"""ISO 20022 camt.053 statements, camt.052 account reports and camt.054 notifications (any version).

Read with ``defusedxml`` (no entity expansion, no external entities). Namespaces are ignored, so
camt.053.001.02 .. .08 all read alike. Opening balance = OPBD (or PRCD, the previous closing);
closing = CLBD. Only booked entries (``Sts`` BOOK, or no status) move the balance. Amounts keep
every decimal the file gives (some banks send five). The counterparty is the debtor of a credit and
the creditor of a debit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from dues.core.errors import Problem, ValidationFailed

from .model import CREDIT, DEBIT, Balance, BankTxn, StatementData, check_balances, checked_amount, enrich_from_narration

CONTAINERS = {"BkToCstmrStmt": ("Stmt", "camt053"), "BkToCstmrAcctRpt": ("Rpt", "camt052"),
              "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "camt054")}


def _strip(el: Element) -> Element:
    for node in el.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    return el


def _text(el: Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _first(el: Element | None, *paths: str) -> str:
    for p in paths:
        if v := _text(el, p):
            return v
    return ""


def _date(el: Element | None) -> date | None:
    """<Dt> or <DtTm> inside ``el``."""
    if el is None:
        return None
    raw = _first(el, "Dt", "DtTm")
    if not raw:
        return None
    return date.fromisoformat(raw[:10])


def _amount(el: Element | None, where: str) -> tuple[Decimal, str]:
    if el is None or not (el.text or "").strip():
        raise ValueError(f"{where}: no amount")
    try:
        value = Decimal(el.text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{where}: not an amount: {el.text.strip()!r}") from exc
    try:
        checked_amount(value, el.text.strip())
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if value < 0:
        raise ValueError(f"{where}: negative amount {value} (the sign belongs in CdtDbtInd)")
    return value, el.get("Ccy", "")


def _account(el: Element | None) -> str:
    return _first(el, "Id/IBAN", "Id/Othr/Id", "Id/BBAN", "Id/UPIC", "Id/PrtryAcct/Id")


def parse(data: bytes, source: str, check: bool = True) -> list[StatementData]:
    """Every statement / report / notification in the message; ``check=False`` skips the balance check."""
    try:
        # no DTD, no entities (internal or external), no network: a bank statement declares none of them
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        root = _strip(root)
    except DefusedXmlException as exc:
        raise ValidationFailed([Problem(f"refused: {exc} (a bank statement declares no DTD or entities)", "", None,
                                        source)]) from None
    except ParseError as exc:
        raise ValidationFailed([Problem(f"not well-formed XML: {exc}", "", None, source)]) from exc
    if namespace and "camt.05" not in namespace:
        raise ValidationFailed([Problem(f"unsupported XML namespace {namespace!r} (expected an ISO 20022 "
                                        "camt.052/053/054 one)", "", None, source)])
    # camt.05x.001.01 names the container with its version (BkToCstmrAcctRptV01)
    container = next((c for c in root if c.tag.split("V0")[0] in CONTAINERS), None)
    if root.tag != "Document" or container is None:
        found = ", ".join(c.tag for c in root) or "nothing"
        raise ValidationFailed([Problem(f"not an ISO 20022 camt.052/053/054 message (found <{root.tag}> holding "
                                        f"{found})", "", None, source)])
    child, fmt = CONTAINERS[container.tag.split("V0")[0]]
    created = _date_any(_text(container, "GrpHdr/CreDtTm"))
    blocks = container.findall(child)
    if not blocks:
        raise ValidationFailed([Problem(f"the message has no <{child}> (no statement in it)", child, None, source)])
    problems: list[Problem] = []
    statements = []
    for number, block in enumerate(blocks, start=1):
        try:
            statements.append(_statement(block, fmt, number, source, created))
        except ValueError as exc:
            problems.append(Problem(str(exc), child, number, source))
    if problems:
        raise ValidationFailed(problems)
    return check_balances(statements) if check else statements


def _statement(block: Element, fmt: str, number: int, source: str, created: date | None) -> StatementData:
    acct = block.find("Acct")
    st = StatementData(
        source=source, format=fmt, statement_id=_text(block, "Id"), account_number=_account(acct),
        account_name=_first(acct, "Nm", "Ownr/Nm"), currency=_text(acct, "Ccy"),
        bank_id=_first(acct, "Svcr/FinInstnId/BIC", "Svcr/FinInstnId/BICFI"), row=number,
    )
    if not st.statement_id:
        raise ValueError(f"statement {number} has no <Id>")
    period = block.find("FrToDt")
    if period is not None:
        st.period_start = _date_any(_text(period, "FrDtTm") or _text(period, "FrDt"))
        st.period_end = _date_any(_text(period, "ToDtTm") or _text(period, "ToDt"))
    for bal in block.findall("Bal"):
        code = _first(bal, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
        amount, ccy = _amount(bal.find("Amt"), f"balance {code}")
        signed = -amount if _text(bal, "CdtDbtInd") == "DBIT" else amount
        b = Balance(signed, _date(bal.find("Dt")), ccy)
        if code in ("OPBD", "PRCD") and st.opening is None:
            st.opening = b
        elif code == "CLBD":
            st.closing = b
    for i, ntry in enumerate(block.findall("Ntry"), start=1):
        st.transactions.append(_entry(ntry, i, st, _date_any(_text(block, "CreDtTm")) or created))
    if not st.currency:
        st.currency = (st.opening.currency if st.opening else "") or next(
            (t.currency for t in st.transactions if t.currency), "")
    return st


def _date_any(raw: str) -> date | None:
    return date.fromisoformat(raw[:10]) if raw else None


def _entry(ntry: Element, index: int, st: StatementData, created: date | None) -> BankTxn:
    where = f"entry {index} of statement {st.statement_id}"
    amount, ccy = _amount(ntry.find("Amt"), where)
    cdi = _text(ntry, "CdtDbtInd")
    if cdi not in ("CRDT", "DBIT"):
        raise ValueError(f"{where}: CdtDbtInd must be CRDT or DBIT, not {cdi!r}")
    status = _first(ntry, "Sts/Cd", "Sts")
    booking = _date(ntry.find("BookgDt"))
    value = _date(ntry.find("ValDt"))
    if booking is None and value is None and created is not None:
        # camt.054 notifications may carry no dates: the message's creation date stands in
        st.warnings.append(f"{where}: no booking or value date; the message date {created} is used")
        booking = created
    if booking is None and value is None:
        raise ValueError(f"{where}: no booking or value date")
    direction = CREDIT if cdi == "CRDT" else DEBIT
    tx = ntry.find("NtryDtls/TxDtls")
    refs = tx.find("Refs") if tx is not None else None
    side = "Dbtr" if direction == CREDIT else "Cdtr"
    parties = tx.find("RltdPties") if tx is not None else None
    agents = tx.find("RltdAgts") if tx is not None else None
    remittance = []
    for t in ntry.findall("NtryDtls/TxDtls"):
        remittance += [(u.text or "").strip() for u in t.findall("RmtInf/Ustrd") if u.text]
        remittance += [(r.text or "").strip() for r in t.findall("RmtInf/Strd/CdtrRefInf/Ref") if r.text]
        if info := _text(t, "AddtlTxInf"):
            remittance.append(info)
    if info := _text(ntry, "AddtlNtryInf"):
        remittance.append(info)
    txn = BankTxn(
        booking_date=booking or value, value_date=value, amount=amount, direction=direction,
        currency=ccy or st.currency,
        reference=_first(ntry, "AcctSvcrRef") or _first(refs, "AcctSvcrRef", "UETR", "TxId", "EndToEndId")
        or _text(ntry, "NtryRef"),
        narration=" ".join(" ".join(remittance).split()),
        counterparty_name=_first(parties, f"{side}/Nm", f"{side}/Pty/Nm"),
        counterparty_account=_account(parties.find(f"{side}Acct") if parties is not None else None),
        counterparty_ifsc=_first(agents, f"{side}Agt/FinInstnId/BIC", f"{side}Agt/FinInstnId/BICFI"),
        end_to_end_id=_first(refs, "EndToEndId") if _first(refs, "EndToEndId") != "NOTPROVIDED" else "",
        bank_code=_first(ntry, "BkTxCd/Prtry/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd"),
        cheque_number=_first(refs, "ChqNb"),
        reversal=_text(ntry, "RvslInd").lower() in ("true", "1"),
        booked=status in ("", "BOOK"),
        row=index,
    )
    enrich_from_narration(txn)
    return txn
