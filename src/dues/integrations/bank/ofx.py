"""OFX / QFX bank and credit-card statements: OFX 1.x SGML (unclosed leaf tags) and OFX 2.x XML.

A small tolerant reader instead of an XML parser: SGML leaves like ``<TRNAMT>-80.00`` have no end tag,
so the text is tokenised into tags and values and aggregates are closed by their end tags. Comments
are dropped. Investment statements (INVSTMTRS) are not cash at the bank and are skipped with a
warning; a file with no bank or card statement at all is refused. OFX states a closing (ledger)
balance but no opening one, so there is nothing to check the lines against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dues.core.errors import Problem, ValidationFailed

from .model import CREDIT, DEBIT, Balance, BankTxn, StatementData, decimal_text, enrich_from_narration

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9_.]+)[^>]*>|([^<]+)")


@dataclass
class Node:
    tag: str
    text: str = ""
    children: list[Node] = field(default_factory=list)
    line: int = 0

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for part in path.split("/"):
            node = next((c for c in node.children if c.tag == part), None) if node else None
        return node

    def text_of(self, path: str) -> str:
        n = self.find(path)
        return n.text.strip() if n else ""

    def iter(self, tag: str):
        for c in self.children:
            if c.tag == tag:
                yield c
            yield from c.iter(tag)


def _tree(body: str, source: str, offset: int) -> Node:
    root = Node("#root")
    stack = [root]
    pending: Node | None = None  # an open tag whose first content decides leaf vs aggregate
    for m in _TOKEN.finditer(body):
        closing, tag, text = m.group(1), (m.group(2) or "").upper(), m.group(3)
        line = offset + body.count("\n", 0, m.start())
        if text is not None:
            if text.strip() and pending is not None:
                pending.text = text.strip()
                stack.pop()  # a leaf: SGML gives it no end tag
                pending = None
            continue
        if closing:
            if pending is not None and pending.tag == tag:  # <X></X> or <X>value</X> in XML
                stack.pop()
                pending = None
                continue
            pending = None
            if stack[-1].tag == tag:
                stack.pop()
            elif any(n.tag == tag for n in stack):
                while stack[-1].tag != tag:
                    stack.pop()
                stack.pop()
            elif tag not in [c.tag for c in stack[-1].children]:  # a leaf closed in XML after its text
                raise ValidationFailed([Problem(f"unexpected end tag </{tag}>", tag, line, source)])
            continue
        pending = None
        node = Node(tag, line=line)
        stack[-1].children.append(node)
        stack.append(node)
        pending = node
    return root


def _date(raw: str, fld: str, line: int, source: str) -> date:
    m = re.match(r"^(\d{4})(\d{2})(\d{2})", raw.strip())
    if not m:
        raise ValidationFailed([Problem(f"not an OFX date (YYYYMMDD...): {raw.strip()!r}", fld, line, source)])
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValidationFailed([Problem(f"no such date: {raw.strip()!r}", fld, line, source)]) from exc


def _amount(raw: str, fld: str, line: int, source: str) -> Decimal:
    s = raw.strip()
    if not s:
        raise ValidationFailed([Problem("is empty (an amount is required)", fld, line, source)])
    if "," in s and "." not in s:  # European decimal comma (1234,56)
        s = s.replace(",", ".")
    try:
        return decimal_text(s)
    except ValueError:
        raise ValidationFailed([Problem(f"not an amount: {raw.strip()!r}", fld, line, source)]) from None


def parse(data: bytes, source: str, check: bool = True) -> list[StatementData]:
    text = data.decode("utf-8", errors="replace") if b"UTF-8" in data[:400].upper() else data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = text.upper().find("<OFX>")
    if start < 0:
        raise ValidationFailed([Problem("not an OFX file (no <OFX> element)", "", None, source)])
    body = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text[start:], flags=re.S)
    ofx = _tree(body, source, text.count("\n", 0, start) + 1).find("OFX")
    if ofx is None:  # pragma: no cover - find("<OFX>") above guarantees it
        raise ValidationFailed([Problem("no <OFX> element", "", None, source)])
    status = ofx.find("SIGNONMSGSRSV1/SONRS/STATUS")
    if status is not None and status.text_of("CODE") not in ("", "0"):
        msg = status.text_of("MESSAGE") or status.text_of("SEVERITY")
        raise ValidationFailed([Problem(f"the bank refused the sign-on (code {status.text_of('CODE')}: {msg})",
                                        "STATUS", status.line, source)])
    statements: list[StatementData] = []
    warnings: list[str] = []
    for tag in ("STMTRS", "CCSTMTRS"):
        for rs in ofx.iter(tag):
            statements.append(_statement(rs, tag, source))
    investments = sum(1 for _ in ofx.iter("INVSTMTRS"))
    if investments:
        warnings.append(f"{source}: {investments} investment statement(s) skipped (not bank cash)")
    if not statements:
        why = "only investment statements" if investments else "no bank or credit-card statement (STMTRS)"
        for trnrs in ofx.iter("STMTTRNRS"):
            code = trnrs.text_of("STATUS/CODE")
            if code not in ("", "0"):
                why = f"the bank returned error {code}: {trnrs.text_of('STATUS/MESSAGE')}"
        raise ValidationFailed([Problem(f"nothing to import: {why}", "", None, source)])
    statements[0].warnings.extend(warnings)
    return statements


def _statement(rs: Node, tag: str, source: str) -> StatementData:
    acct = rs.find("BANKACCTFROM") or rs.find("CCACCTFROM")
    currency = rs.text_of("CURDEF")
    problems = []
    if acct is None or not acct.text_of("ACCTID"):
        problems.append(Problem("the statement names no account (BANKACCTFROM/ACCTID)", "ACCTID", rs.line, source))
    if problems:
        raise ValidationFailed(problems)
    st = StatementData(source=source, format="ofx", account_number=acct.text_of("ACCTID"),
                       bank_id=acct.text_of("BANKID") or acct.text_of("BRANCHID"), currency=currency, row=rs.line)
    if not currency:
        st.warnings.append(f"{source}:{rs.line}: the statement has an empty CURDEF; the bank account's currency is used")
    lst = rs.find("BANKTRANLIST")
    if lst is not None:
        if lst.text_of("DTSTART"):
            st.period_start = _date(lst.text_of("DTSTART"), "DTSTART", lst.line, source)
        if lst.text_of("DTEND"):
            st.period_end = _date(lst.text_of("DTEND"), "DTEND", lst.line, source)
        for trn in lst.iter("STMTTRN"):
            st.transactions.append(_txn(trn, st, source))
    bal = rs.find("LEDGERBAL")
    if bal is not None:
        amount = _amount(bal.text_of("BALAMT"), "LEDGERBAL/BALAMT", bal.line, source)
        on = _date(bal.text_of("DTASOF"), "LEDGERBAL/DTASOF", bal.line, source) if bal.text_of("DTASOF") else None
        st.closing = Balance(amount, on, currency)
    st.statement_id = f"{st.account_number}:{st.period_end or st.period_start or ''}"
    return st


def _txn(trn: Node, st: StatementData, source: str) -> BankTxn:
    posted = trn.text_of("DTPOSTED")
    if not posted:
        raise ValidationFailed([Problem("a transaction has no posting date", "DTPOSTED", trn.line, source)])
    amount = _amount(trn.text_of("TRNAMT"), "TRNAMT", trn.line, source)
    name = trn.text_of("NAME") or trn.text_of("PAYEE/NAME")
    memo = trn.text_of("MEMO")
    txn = BankTxn(
        booking_date=_date(posted, "DTPOSTED", trn.line, source),
        value_date=_date(trn.text_of("DTUSER"), "DTUSER", trn.line, source) if trn.text_of("DTUSER") else None,
        amount=abs(amount), direction=CREDIT if amount >= 0 else DEBIT,
        currency=trn.text_of("CURRENCY/CURSYM") or st.currency,
        reference=trn.text_of("FITID") or trn.text_of("REFNUM"),
        narration=" ".join(" ".join(x for x in (name, memo) if x).split()),
        counterparty_name=name,
        counterparty_account=trn.text_of("BANKACCTTO/ACCTID"),
        bank_code=trn.text_of("TRNTYPE"), cheque_number=trn.text_of("CHECKNUM"), row=trn.line,
    )
    enrich_from_narration(txn)
    return txn
