"""The bad-input corpus: realistic wrong or hostile inputs for every way data gets into dues, each with the
words its refusal must contain. ``test_bad_input_corpus`` feeds each through the real entry point and checks
the refusal names the file (and the row and field, for tables) and that the database did not change.

A case is a ``Case(id, ...)``; ``expect`` lists substrings that must all appear in the error shown to the
user (``at(file, row, field)`` builds the ``FILE:ROW: FIELD:`` prefix every import problem starts with).
To add one: append it to the list of its entry point; its id must be unique. See docs/imports.md.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # import kind, or "bank"/"tally"/"template"/"api"
    name: str  # file name as uploaded ("" where there is no file)
    data: bytes | str | dict
    expect: tuple[str, ...]
    extra: dict = field(default_factory=dict)  # per entry point: format, preset, subject, path, status


def at(name: str, row: int | None = None, fld: str = "") -> str:
    where = name if row is None else f"{name}:{row}"
    return f"{where}: {fld}: " if fld else f"{where}: "


# --- CSV/XLSX imports (customers, invoices, receipts, credit notes) --------------------------------------------

INV_HEAD = "number,customer,date,amount\n"
RCT_HEAD = "number,customer,date,amount,mode,tds,allocations\n"
CN_HEAD = "number,customer,date,amount,against\n"
CUS_HEAD = "code,name,gstin,pan,state,email,credit_limit,credit_days,pin\n"


def _inv(cell: str, column: str = "amount") -> str:
    """An invoice file whose second data row has ``cell`` in ``column``; the first row is good."""
    good = {"number": "INV-10", "customer": "C001", "date": "2026-04-01", "amount": "1000"}
    bad = {"number": "INV-11", "customer": "C001", "date": "2026-04-02", "amount": "1000"}
    bad[column] = cell

    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v

    return INV_HEAD + ",".join(good.values()) + "\n" + ",".join(quote(v) for v in bad.values()) + "\n"


BAD_AMOUNTS = {
    "negative": ("-100", "must be positive"), "zero": ("0", "must be positive"), "zero-decimals": ("0.00", "positive"),
    "nan": ("NaN", "not an amount"), "nan-lower": ("nan", "not an amount"), "snan": ("sNaN", "not an amount"),
    "infinity": ("Infinity", "not an amount"), "minus-infinity": ("-Infinity", "not an amount"),
    "inf": ("inf", "not an amount"), "exponent-huge": ("1e400", "not an amount"), "exponent": ("1E5", "not an amount"),
    "indian-three-decimals": ("1,00,000.555", "more than 2 decimal places"), "rupee-sign-only": ("₹", "not an amount"),
    "words": ("one thousand", "not an amount"), "two-points": ("12.34.56", "not an amount"),
    "double-minus": ("--5", "not an amount"), "hex": ("0x10", "not an amount"), "underscore": ("1_000", "not an amount"),
    "percent": ("100%", "not an amount"), "dollar": ("$100", "not an amount"), "formula": ("=1+1", "not an amount"),
    "formula-sum": ("=SUM(A1:A9)", "not an amount"), "dde": ("=cmd|' /C calc'!A0", "not an amount"),
    "brackets-negative": ("(100)", "must be positive"), "seventeen-digits": ("9" * 17, "too large"),
    "arabic-indic-digits": ("١٠٠", "not an amount"), "fullwidth-digits": ("１００", "not an amount"),
    "comma-typo": ("12,50", "not an amount"), "trailing-dr": ("100 Dr", "not an amount"),
    "spaces-inside": ("1 000", "not an amount"), "blank": ("", "is required"), "only-spaces": ("   ", "is required"),
    "minus-zero-fraction": ("-0.01", "must be positive"), "tiny": ("0.001", "more than 2 decimal places"),
}
BAD_DATES = {
    "feb-31": ("31-02-2026", "no such date"), "zeros": ("00/00/0000", "no such date"),
    "month-13": ("2026-13-01", "no such date"), "feb-30-iso": ("2026-02-30", "no such date"),
    "day-32": ("32/01/2026", "no such date"), "word": ("tomorrow", "not a date"), "iso-zeros": ("0000-00-00", "no such date"),
    "not-leap": ("29-02-2025", "no such date"), "year-month": ("2026/1", "not a date"),
    "us-order": ("04/31/2026", "no such date"), "two-digit-year": ("1-4-26", "not a date"),
    "excel-serial": ("46023", "not a date"), "ancient": ("1899-12-31", "before 1900"),
    "year-one": ("0001-01-01", "before 1900"), "far-future": ("2999-01-01", "more than a year after today"),
    "next-decade": ("01-01-2036", "more than a year after today"), "blank": ("", "is required"),
    "time-only": ("10:30", "not a date"), "formula": ("=TODAY()", "not a date"),
    "dotted-nonsense": ("31.31.2026", "no such date"),
}


def _xlsx(rows: list[list], *, title: str = "Sheet", first_sheet: list[list] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if first_sheet is not None:
        ws.title = "Read me"
        for r in first_sheet:
            ws.append(r)
        ws = wb.create_sheet(title)
    else:
        ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload in parts.items():
            z.writestr(name, payload)
    return buf.getvalue()


def _bomb() -> bytes:
    good = _xlsx([["number", "customer", "date", "amount"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/worksheets/sheet9.xml", b"<c/>" * 6_000_000)
    return out.getvalue()


def _xlsx_xxe() -> bytes:
    """A workbook whose sheet declares an external entity (openpyxl reads parts through defusedxml)."""
    good = _xlsx([["number", "customer", "date", "amount"], ["INV-10", "C001", "2026-04-01", 100]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                payload = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + payload
            dst.writestr(item, payload)
    return out.getvalue()


def tabular_cases() -> list[Case]:
    cases: list[Case] = []
    for key, (cell, why) in BAD_AMOUNTS.items():
        cases.append(Case(f"csv-amount-{key}", "invoices", "inv.csv", _inv(cell), (at("inv.csv", 3, "amount"), why)))
    for key, (cell, why) in BAD_DATES.items():
        cases.append(Case(f"csv-date-{key}", "invoices", "inv.csv", _inv(cell, "date"), (at("inv.csv", 3, "date"), why)))
    f = "inv.csv"
    more = [
        ("csv-unknown-customer", "invoices", _inv("C404", "customer"), (at(f, 3, "customer"), "unknown customer 'C404'")),
        ("csv-customer-formula", "invoices", _inv("=HYPERLINK(\"http://x\")", "customer"),
         (at(f, 3, "customer"), "unknown customer")),
        ("csv-number-blank", "invoices", _inv("", "number"), (at(f, 3, "number"), "is required")),
        ("csv-number-too-long", "invoices", _inv("N" * 41, "number"), (at(f, 3, "number"), "at most 40 characters")),
        ("csv-duplicate-number-in-file", "invoices", _inv("INV-10", "number"), (at(f, 3, "number"), "appears twice")),
        ("csv-duplicate-number-in-db", "invoices", INV_HEAD + "INV-1,C001,2026-04-01,999\n",
         (at(f, 2, "number"), "INV-1 is already posted with")),
        ("csv-unknown-currency", "invoices", INV_HEAD.replace("\n", ",currency\n") + "INV-10,C001,2026-04-01,100,XYZ\n",
         (at(f, 2, "currency"), "XYZ")),
        ("csv-foreign-currency", "invoices", INV_HEAD.replace("\n", ",currency\n") + "INV-10,C001,2026-04-01,100,USD\n",
         (at(f, 2, "currency"), "not supported")),
        ("csv-due-before-date", "invoices", "number,customer,date,due_date,amount\nINV-10,C001,2026-04-10,2026-04-01,5\n",
         (at(f, 2, "due_date"), "before the document date")),
        ("csv-tax-over-amount", "invoices", "number,customer,date,amount,taxable_value,tax\nINV-10,C001,2026-04-10,100,90,50\n",
         (at(f, 2, "amount"), "is not taxable value")),
        ("csv-negative-tax", "invoices", "number,customer,date,amount,tax\nINV-10,C001,2026-04-10,100,-5\n",
         (at(f, 2, "tax"), "zero or more")),
        ("csv-missing-columns", "invoices", "number,customer\nINV-10,C001\n", (at(f, 1), "missing column(s) date, amount")),
        ("csv-wrong-kind-of-file", "invoices", CUS_HEAD + "C009,Someone,,,27,,,,\n", (at(f, 1), "missing column(s)")),
        ("csv-empty", "invoices", "", (f, "the file is empty")),
        ("csv-only-blank-lines", "invoices", "\n\n,,,\n\n", (f, "the file is empty")),
        ("csv-header-only", "invoices", INV_HEAD, (f, "no data rows")),
        ("csv-duplicate-header", "invoices", "number,customer,date,amount,amount\nINV-10,C001,2026-04-01,100,900\n",
         (at(f, 1, "amount"), "appears twice")),
        ("csv-duplicate-header-case", "invoices", "Number,Customer,Date,Amount,AMOUNT\nINV-10,C001,2026-04-01,1,9\n",
         (at(f, 1, "amount"), "appears twice")),
        ("csv-ragged-unquoted-indian-amount", "invoices", INV_HEAD + "INV-10,C001,2026-04-01,1,00,000\n",
         (at(f, 2), "more cells than the header", "00")),
        ("csv-ragged-short-row", "invoices", INV_HEAD + "INV-10,C001\n", (at(f, 2, "date"), "is required")),
        ("csv-nul-byte", "invoices", INV_HEAD + "INV-10,C001,2026-04-01,10\x000\n", (at(f, 2), "contains a NUL byte")),
        ("csv-binary-garbage", "invoices", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), (f,)),
        ("csv-utf16-without-bom", "invoices", INV_HEAD.encode("utf-16-le") + "INV-10,C001,2026-04-01,10\n".encode("utf-16-le"),
         (f,)),
        ("csv-utf16-bom-bad-amount", "invoices", (INV_HEAD + "INV-10,C001,2026-04-01,ten\n").encode("utf-16"),
         (at(f, 2, "amount"), "not an amount")),
        ("csv-latin1-bad-customer", "invoices", (INV_HEAD + "INV-10,Société Générale,2026-04-01,10\n").encode("latin-1"),
         (at(f, 2, "customer"), "unknown customer 'Société Générale'")),
        ("csv-bom-bad-date", "invoices", "\ufeff" + INV_HEAD + "INV-10,C001,31-02-2026,10\n",
         (at(f, 2, "date"), "no such date")),
        ("csv-unclosed-quote", "invoices", INV_HEAD + 'INV-10,C001,2026-04-01,"100\nINV-11,C001,2026-04-01,5\n',
         (at(f, 2),)),
        ("csv-semicolon-bad-amount", "invoices", "number;customer;date;amount\nINV-10;C001;2026-04-01;abc\n",
         (at(f, 2, "amount"), "not an amount")),
        ("csv-every-row-reported", "invoices", INV_HEAD + "INV-10,C404,2026-04-01,1\nINV-11,C001,2026-02-30,1\n"
         "INV-12,C001,2026-04-01,-1\n", (at(f, 2, "customer"), at(f, 3, "date"), at(f, 4, "amount"))),
        ("csv-good-rows-not-written-with-a-bad-one", "invoices", INV_HEAD + "INV-10,C001,2026-04-01,1\n" * 1
         + "INV-11,C001,2026-04-01,1\nINV-12,C001,2026-04-01,x\n", (at(f, 4, "amount"),)),
        # receipts
        ("rct-allocation-not-pair", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-1\n",
         (at("rct.csv", 2, "allocations"), "is not INVOICE:AMOUNT")),
        ("rct-allocation-words", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-1:lots\n",
         (at("rct.csv", 2, "allocations"), "is not an amount")),
        ("rct-allocation-negative", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-1:-5\n",
         (at("rct.csv", 2, "allocations"), "must be positive")),
        ("rct-allocation-unknown-invoice", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-404:100\n",
         (at("rct.csv", 2, "allocations"), "INV-404")),
        ("rct-allocation-over-receipt", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-1:500\n",
         (at("rct.csv", 2, "allocations"),)),
        ("rct-allocation-other-customer", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,,INV-2:100\n",
         (at("rct.csv", 2, "allocations"), "belongs to another customer")),
        ("rct-unknown-mode", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,bitcoin,,\n",
         (at("rct.csv", 2, "mode"), "unknown mode 'bitcoin'")),
        ("rct-negative-tds", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,100,neft,-10,\n",
         (at("rct.csv", 2, "tds"), "zero or more")),
        ("rct-settles-nothing", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,0,neft,,\n",
         (at("rct.csv", 2, "amount"), "must settle something")),
        ("rct-negative", "receipts", RCT_HEAD + "R-1,C001,2026-04-01,-100,neft,,\n",
         (at("rct.csv", 2, "amount"), "zero or more")),
        # credit notes
        ("cn-against-unknown", "credit-notes", CN_HEAD + "CN-1,C001,2026-04-01,100,INV-404\n",
         (at("cn.csv", 2, "against"), "INV-404")),
        ("cn-over-invoice", "credit-notes", CN_HEAD + "CN-1,C001,2026-04-01,999999,INV-1\n", (at("cn.csv", 2, "against"),)),
        ("cn-zero", "credit-notes", CN_HEAD + "CN-1,C001,2026-04-01,0,\n", (at("cn.csv", 2, "amount"), "must be positive")),
        ("cn-against-receipt", "credit-notes", CN_HEAD + "CN-1,C001,2026-04-01,10,RCT-1\n",
         (at("cn.csv", 2, "against"),)),
        # customers
        ("cus-gstin-checksum", "customers", CUS_HEAD + "C009,Bad Gst,27AAPFU0939F1ZX,,27,,,,\n",
         (at("cus.csv", 2, "gstin"), "check")),
        ("cus-gstin-short", "customers", CUS_HEAD + "C009,Bad Gst,27AAPFU0939F1Z,,27,,,,\n", (at("cus.csv", 2, "gstin"),)),
        ("cus-gstin-lowercase-junk", "customers", CUS_HEAD + "C009,Bad Gst,hello-world-gst,,27,,,,\n",
         (at("cus.csv", 2, "gstin"),)),
        ("cus-gstin-state-99", "customers", CUS_HEAD + "C009,Bad Gst,99AAPFU0939F1ZV,,27,,,,\n", (at("cus.csv", 2, "gstin"),)),
        ("cus-pan-bad", "customers", CUS_HEAD + "C009,Bad Pan,,ABCDE1234,27,,,,\n", (at("cus.csv", 2, "pan"),)),
        ("cus-pan-digits", "customers", CUS_HEAD + "C009,Bad Pan,,1234567890,27,,,,\n", (at("cus.csv", 2, "pan"),)),
        ("cus-pan-not-in-gstin", "customers", CUS_HEAD + "C009,Bad Pan,27AAPFU0939F1ZV,AAGCB7383J,27,,,,\n",
         (at("cus.csv", 2, "pan"), "is not the PAN inside GSTIN")),
        ("cus-state-unknown", "customers", CUS_HEAD + "C009,Nowhere,,,Atlantis,,,,\n", (at("cus.csv", 2, "state"),)),
        ("cus-email-bad", "customers", CUS_HEAD + "C009,No Mail,,,27,not-mail,,,\n",
         (at("cus.csv", 2, "email"), "is not an e-mail address")),
        ("cus-email-header-injection", "customers", CUS_HEAD + 'C009,No Mail,,,27,"a@b.example\nBcc: all@x.example",,,\n',
         (at("cus.csv", 2, "email"),)),
        ("cus-credit-limit-negative", "customers", CUS_HEAD + "C009,Neg,,,27,,-5000,,\n", (at("cus.csv", 2, "credit_limit"),)),
        ("cus-credit-limit-words", "customers", CUS_HEAD + "C009,Neg,,,27,,lots,,\n", (at("cus.csv", 2, "credit_limit"),)),
        ("cus-credit-days-words", "customers", CUS_HEAD + "C009,Days,,,27,,,thirty,\n", (at("cus.csv", 2, "credit_days"),)),
        ("cus-credit-days-negative", "customers", CUS_HEAD + "C009,Days,,,27,,,-1,\n", (at("cus.csv", 2, "credit_days"),)),
        ("cus-pin-bad", "customers", CUS_HEAD + "C009,Pin,,,27,,,,12345\n", (at("cus.csv", 2, "pin"), "six-digit PIN")),
        ("cus-code-blank", "customers", CUS_HEAD + ",No Code,,,27,,,,\n", (at("cus.csv", 2, "code"), "is required")),
        ("cus-code-too-long", "customers", CUS_HEAD + "C" * 41 + ",Long,,,27,,,,\n", (at("cus.csv", 2, "code"), "longer")),
        ("cus-name-blank", "customers", CUS_HEAD + "C009,,,,27,,,,\n", (at("cus.csv", 2, "name"), "is required")),
        ("cus-duplicate-code", "customers", CUS_HEAD + "C009,One,,,27,,,,\nC009,Two,,,27,,,,\n",
         (at("cus.csv", 3, "code"), "appears twice")),
        ("cus-missing-name-column", "customers", "code,gstin\nC009,\n", (at("cus.csv", 1), "missing column(s) name")),
    ]
    names = {"invoices": "inv.csv", "receipts": "rct.csv", "credit-notes": "cn.csv", "customers": "cus.csv"}
    for cid, kind, data, expect in more:
        cases.append(Case(cid, kind, names[kind], data, expect))
    head = ["number", "customer", "date", "amount"]
    x = "inv.xlsx"
    cases += [
        Case("xlsx-not-a-zip", "invoices", x, b"number,customer,date,amount\n", (x, "not a readable .xlsx workbook")),
        Case("xlsx-truncated", "invoices", x, _xlsx([head])[:600], (x, "not a readable .xlsx workbook")),
        Case("xlsx-zip-without-workbook", "invoices", x, _zip({"hello.txt": b"hi"}), (x, "not a readable .xlsx workbook")),
        Case("xlsx-zip-bomb", "invoices", x, _bomb(), (x, "refused: part xl/worksheets/sheet9.xml expands")),
        Case("xlsx-xxe-in-sheet", "invoices", x, _xlsx_xxe(), (x, "not a readable .xlsx workbook")),
        Case("xlsx-formula-amount", "invoices", x, _xlsx([head, ["INV-10", "C001", "2026-04-01", "=100*2"]]),
             (at(x, 2, "amount"), "is required")),  # a formula with no value saved
        Case("xlsx-float-noise-amount", "invoices", x, _xlsx([head, ["INV-10", "C001", "2026-04-01", 10.555]]),
             (at(x, 2, "amount"), "more than 2 decimal places")),
        Case("xlsx-date-as-bad-text", "invoices", x, _xlsx([head, ["INV-10", "C001", "31/02/2026", 100]]),
             (at(x, 2, "date"), "no such date")),
        Case("xlsx-date-with-time-in-amount", "invoices", x,
             _xlsx([head, ["INV-10", "C001", "2026-04-01", datetime(2026, 4, 1, 10, 30)]]), (at(x, 2, "amount"),)),
        Case("xlsx-wrong-sheet-first", "invoices", x,
             _xlsx([head, ["INV-10", "C001", "2026-04-01", 100]], title="Data", first_sheet=[["How to fill this in"]]),
             (at(x, 1), "missing column(s)")),
        Case("xlsx-empty-workbook", "invoices", x, _xlsx([]), (x, "the file is empty")),
        Case("xlsx-negative-number", "invoices", x, _xlsx([head, ["INV-10", "C001", "2026-04-01", -5]]),
             (at(x, 2, "amount"), "must be positive")),
        Case("xlsx-boolean-amount", "invoices", x, _xlsx([head, ["INV-10", "C001", "2026-04-01", True]]),
             (at(x, 2, "amount"), "not an amount")),
        Case("xlsx-unknown-customer-row-5", "invoices", x,
             _xlsx([[], [], head, ["INV-10", "C001", "2026-04-01", 1], ["INV-11", "C777", "2026-04-01", 1]]),
             (at(x, 5, "customer"), "unknown customer 'C777'")),
        Case("file-type-pdf", "invoices", "inv.pdf", b"%PDF-1.7\n", ("inv.pdf", "unsupported file type '.pdf'")),
        Case("file-type-xls", "invoices", "inv.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ("inv.xls", "unsupported file type")),
    ]
    return cases


# --- bank statements ------------------------------------------------------------------------------------------

HDFC_HEAD = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"


def _hdfc(*lines: str) -> str:
    return "Account No :50100123456789\n\n" + HDFC_HEAD + "".join(lines)


GOOD_HDFC_LINE = '01/06/26,NEFT CR-SHREE GANESH,N1,01/06/26,,"1,000.00","2,000.00"\n'

MT940 = """{1:F01HDFCINBBAXXX0000000000}{2:I940HDFCINBBXXXXN}{4:
:20:STMT-2026-06
:25:HDFC0000123/50100123456789
:28C:17/1
:60F:C260601INR100000,00
:61:2606010601C1000,00NTRFNONREF//N123456789012
:86:NEFT CR-SHREE GANESH TRADERS
:62F:C260601INR101000,00
-}"""

CAMT_BODY = """<Stmt><Id>S1</Id><Acct><Id><Othr><Id>50100123456789</Id></Othr></Id><Ccy>INR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-06-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-06-02</Dt></Dt></Bal>
<Ntry><Amt Ccy="INR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-06-02</Dt></BookgDt><AcctSvcrRef>UTR0001</AcctSvcrRef></Ntry></Stmt>"""


def _camt(body: str = CAMT_BODY, prolog: str = "", ns: str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08") -> str:
    return (f'<?xml version="1.0"?>{prolog}<Document xmlns="{ns}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId>'
            f"<CreDtTm>2026-06-05T10:00:00</CreDtTm></GrpHdr>{body}</BkToCstmrStmt></Document>")


LAUGHS = ('<!DOCTYPE Document [<!ENTITY a "lollollollollollollol">' +
          "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>")


def bank_cases() -> list[Case]:
    h = "june.csv"
    c = "june.xml"
    m = "june.sta"
    rows = [
        ("csv-amount-words", h, _hdfc('01/06/26,NEFT CR,N1,01/06/26,,lots,"2,000.00"\n'), {"preset": "hdfc"}, (h, "lots")),
        ("csv-amount-nan", h, _hdfc("01/06/26,NEFT CR,N1,01/06/26,,NaN,2000.00\n"), {"preset": "hdfc"}, (h, "NaN")),
        ("csv-amount-infinity", h, _hdfc("01/06/26,NEFT CR,N1,01/06/26,,Infinity,2000.00\n"), {"preset": "hdfc"},
         (h, "Infinity")),
        ("csv-amount-exponent", h, _hdfc("01/06/26,NEFT CR,N1,01/06/26,,1e400,2000.00\n"), {"preset": "hdfc"}, (h, "1e400")),
        ("csv-amount-huge", h, _hdfc(f"01/06/26,NEFT CR,N1,01/06/26,,{'9' * 30},2000.00\n"), {"preset": "hdfc"},
         (h, "too large")),
        ("csv-both-sides", h, _hdfc('01/06/26,NEFT CR,N1,01/06/26,5.00,"1,000.00","2,000.00"\n'), {"preset": "hdfc"}, (h,)),
        ("csv-date-feb-31", h, _hdfc('31/02/26,NEFT CR,N1,31/02/26,,"1,000.00","2,000.00"\n'), {"preset": "hdfc"},
         (h, "31/02/26")),
        ("csv-date-words", h, _hdfc('yesterday,NEFT CR,N1,01/06/26,,"1,000.00","2,000.00"\n'), {"preset": "hdfc"},
         (h, "yesterday")),
        ("csv-balance-broken", h, _hdfc(GOOD_HDFC_LINE, '02/06/26,NEFT CR,N2,02/06/26,,"1,000.00","9,999.00"\n'),
         {"preset": "hdfc"}, (h, "balance")),
        ("csv-no-header", h, "just,some,words\n1,2,3\n", {"preset": "hdfc"}, (h,)),
        ("csv-header-only", h, _hdfc(), {"preset": "hdfc"}, (h,)),
        ("csv-empty", h, "", {}, (h, "the file is empty")),
        ("csv-whitespace-only", h, " \n\n\t\n", {}, (h, "the file is empty")),
        ("csv-nul-bytes", h, _hdfc(GOOD_HDFC_LINE.replace("NEFT", "NE\x00FT")), {"preset": "hdfc"}, (h, "NUL byte")),
        ("csv-binary", h, bytes(range(256)) * 4, {}, (h,)),
        ("csv-generic-missing-columns", h, "when,what\n2026-06-01,hello\n", {"preset": "generic"}, (h,)),
        ("csv-formula-narration-bad-amount", h, _hdfc('01/06/26,=HYPERLINK("http://x"),N1,01/06/26,,=1+1,2000\n'),
         {"preset": "hdfc"}, (h, "=1+1")),
        ("xlsx-not-a-zip", "june.xlsx", b"PK\x03\x04 this is not really a zip", {}, ("june.xlsx",)),
        ("xlsx-bomb", "june.xlsx", _bomb(), {}, ("june.xlsx", "refused")),
        ("mt940-bad-61", m, MT940.replace(":61:2606010601C1000,00", ":61:26060106X1C1000,00"), {}, (m, ":61:")),
        ("mt940-balance-broken", m, MT940.replace("101000,00", "101000,01"), {}, (m, "difference 0.01")),
        ("mt940-amount-words", m, MT940.replace("C1000,00N", "Clots,00N"), {}, (m,)),
        ("mt940-huge-opening", m, MT940.replace(":60F:C260601INR100000,00", ":60F:C260601INR" + "9" * 30 + ",00"), {},
         (m, "too large")),
        ("mt940-bad-date", m, MT940.replace(":60F:C260601", ":60F:C261341"), {}, (m,)),
        ("mt940-truncated", m, MT940[:120], {}, (m,)),
        ("mt940-not-mt940", m, "hello world\nthis is a letter\n", {}, (m,)),
        ("mt940-huge-amount", m, MT940.replace("C1000,00N", "C" + "9" * 30 + ",00N"), {}, (m,)),
        ("camt-xxe-file", c, _camt(prolog='<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                                   body=CAMT_BODY.replace("UTR0001", "&x;")), {}, (c, "refused")),
        ("camt-xxe-http", c, _camt(prolog='<!DOCTYPE Document [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>',
                                   body=CAMT_BODY.replace("UTR0001", "&x;")), {}, (c, "refused")),
        ("camt-billion-laughs", c, _camt(prolog=LAUGHS, body=CAMT_BODY.replace("UTR0001", "&j;")), {}, (c, "refused")),
        ("camt-dtd-only", c, _camt(prolog="<!DOCTYPE Document>"), {}, (c, "refused")),
        ("camt-parameter-entity", c, _camt(prolog='<!DOCTYPE Document [<!ENTITY % p SYSTEM "http://x/p.dtd"> %p;]>'),
         {}, (c, "refused")),
        ("camt-malformed", c, _camt()[:-30], {}, (c, "not well-formed XML")),
        ("camt-mismatched-tags", c, _camt().replace("</Acct>", "</Acc>"), {}, (c, "not well-formed XML")),
        ("camt-wrong-namespace", c, _camt(ns="urn:example:not-a-bank"), {}, (c,)),
        ("camt-pain-not-camt", c, '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
         "<CstmrCdtTrfInitn/></Document>", {}, (c,)),
        ("camt-deep-nesting", c, '<?xml version="1.0"?>' + "<a>" * 100_000 + "</a>" * 100_000, {}, (c,)),
        ("camt-balance-broken", c, _camt(CAMT_BODY.replace("1500.00", "1599.00")), {}, (c, "does not balance")),
        ("camt-amount-words", c, _camt(CAMT_BODY.replace('<Amt Ccy="INR">500.00', '<Amt Ccy="INR">five hundred')),
         {}, (c, "five hundred")),
        ("camt-amount-nan", c, _camt(CAMT_BODY.replace('<Amt Ccy="INR">500.00', '<Amt Ccy="INR">NaN')), {}, (c, "NaN")),
        ("camt-bad-date", c, _camt(CAMT_BODY.replace("<BookgDt><Dt>2026-06-02", "<BookgDt><Dt>2026-02-31")), {},
         (c,)),
        ("camt-bad-direction", c, _camt(CAMT_BODY.replace("<CdtDbtInd>CRDT</CdtDbtInd><Sts>",
                                                          "<CdtDbtInd>SIDEWAYS</CdtDbtInd><Sts>")), {}, (c,)),
        ("camt-amount-negative", c, _camt(CAMT_BODY.replace('<Amt Ccy="INR">500.00', '<Amt Ccy="INR">-500.00')), {},
         (c, "negative amount")),
        ("camt-empty-document", c, '<?xml version="1.0"?>', {}, (c,)),
        ("format-unknown-extension-text", "notes.txt", "Dear sir, please find the statement attached.\n", {}, ("notes.txt",)),
    ]
    return [Case(f"bank-{cid}", "bank", name, data, expect, extra) for cid, name, data, extra, expect in rows]


# --- Tally XML --------------------------------------------------------------------------------------------------

TALLY_GOOD = """<ENVELOPE><HEADER><TALLYREQUEST>Import Data</TALLYREQUEST></HEADER><BODY><IMPORTDATA>
<REQUESTDESC><REPORTNAME>All Masters</REPORTNAME></REQUESTDESC><REQUESTDATA>
<TALLYMESSAGE><LEDGER NAME="Acme Traders" RESERVEDNAME=""><PARENT>Sundry Debtors</PARENT>
<OPENINGBALANCE>-1000.00</OPENINGBALANCE></LEDGER></TALLYMESSAGE>
</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>"""


def _tally_voucher(date: str = "20260601", amount: str = "-1180.00") -> str:
    return TALLY_GOOD.replace("</REQUESTDATA>", (
        '<TALLYMESSAGE><VOUCHER REMOTEID="g1" VCHTYPE="Sales" ACTION="Create">'
        f"<DATE>{date}</DATE><GUID>g1</GUID><PARTYLEDGERNAME>Acme Traders</PARTYLEDGERNAME>"
        "<VOUCHERTYPENAME>Sales</VOUCHERTYPENAME><VOUCHERNUMBER>S/1</VOUCHERNUMBER><ALTERID>1</ALTERID>"
        "<ALLLEDGERENTRIES.LIST><LEDGERNAME>Acme Traders</LEDGERNAME><ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>"
        f"<ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>{amount}</AMOUNT></ALLLEDGERENTRIES.LIST>"
        "<ALLLEDGERENTRIES.LIST><LEDGERNAME>Sales</LEDGERNAME><ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>"
        "<AMOUNT>1180.00</AMOUNT></ALLLEDGERENTRIES.LIST></VOUCHER></TALLYMESSAGE></REQUESTDATA>"))


def tally_cases() -> list[Case]:
    t = "tally.xml"
    rows = [
        ("xxe-file", TALLY_GOOD.replace("<ENVELOPE>", '<!DOCTYPE ENVELOPE [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                        "<ENVELOPE>").replace("Acme Traders", "&x;"), (t, "refused")),
        ("xxe-http", TALLY_GOOD.replace("<ENVELOPE>", '<!DOCTYPE ENVELOPE [<!ENTITY x SYSTEM "http://127.0.0.1:9/">]>'
                                        "<ENVELOPE>").replace("Acme Traders", "&x;"), (t, "refused")),
        ("billion-laughs", TALLY_GOOD.replace("<ENVELOPE>", LAUGHS.replace("Document", "ENVELOPE") + "<ENVELOPE>")
         .replace("Acme Traders", "&j;"), (t, "refused")),
        ("internal-entity", TALLY_GOOD.replace("<ENVELOPE>", '<!DOCTYPE ENVELOPE [<!ENTITY n "Acme">]><ENVELOPE>'),
         (t, "refused")),
        ("dtd-only", '<!DOCTYPE ENVELOPE SYSTEM "tally.dtd">' + TALLY_GOOD, (t, "refused")),
        ("truncated", TALLY_GOOD[:200], (t, "cut short")),
        ("malformed", TALLY_GOOD.replace("</LEDGER>", "</LEDGR>"), (t, "not well-formed XML")),
        ("wrong-root", TALLY_GOOD.replace("ENVELOPE>", "RSS>"), (t, "not a Tally XML export", "<RSS>")),
        ("empty", "", (t, "empty")),
        ("not-xml", "Acme Traders,1000\n", (t,)),
        ("voucher-alterid-words", _tally_voucher().replace("<ALTERID>1</ALTERID>", "<ALTERID>latest</ALTERID>"),
         (t, "S/1", "ALTERID 'latest' is not a number")),
        ("voucher-bad-date", _tally_voucher(date="20260231"), (t, "S/1")),
        ("voucher-words-date", _tally_voucher(date="yesterday"), (t, "S/1")),
        ("voucher-amount-words", _tally_voucher(amount="lots"), (t, "S/1")),
        ("voucher-amount-nan", _tally_voucher(amount="NaN"), (t, "S/1")),
        # the first voucher's date sets the opening balances' date: the ledger's opening is refused
        ("voucher-ancient-date", _tally_voucher(date="18991231"), (t, "ledger Acme Traders: date", "before 1900")),
        ("utf16-garbage", "\ufeff<ENVELOPE>".encode("utf-16-le") + b"\x00\xd8\x00\xd8", (t,)),
    ]
    return [Case(f"tally-{cid}", "tally", t, data, expect) for cid, data, expect in rows]


# --- message templates (the company's own wording, saved through the sandbox) ------------------------------------

def template_cases() -> list[Case]:
    rows = [
        ("class-mro", "{{ ''.__class__.__mro__ }}", "unsafe"),
        ("class-subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("company-dict", "{{ company.__dict__ }}", "no attribute '__dict__'"),
        ("company-class", "{{ company.__class__ }}", "unsafe"),
        ("cycler-globals", "{{ cycler.__init__.__globals__.os.popen('id').read() }}", "unsafe"),
        ("joiner-globals", "{{ joiner.__init__.__globals__ }}", "unsafe"),
        ("namespace-globals", "{{ namespace.__init__.__globals__ }}", "unsafe"),
        ("lipsum-globals", "{{ lipsum.__globals__['os'] }}", "unsafe"),
        ("self-module", "{{ self._TemplateReference__context }}", "unsafe"),
        ("attr-filter-walk", "{{ company|attr('__class__') }}", "unsafe"),
        ("format-walk", "{{ '{0.__class__}'.format(company) }}", "unsafe"),
        ("str-format-map", "{{ '%s' % ''.__class__ }}", "unsafe"),
        ("request-config", "{{ config.SECRET_KEY }}", "undefined"),
        ("settings", "{{ settings.SECRET_KEY }}", "undefined"),
        ("import", "{% import 'os' as os %}", "not"),
        ("include-secrets", "{% include '../../settings.py' %}", "not"),
        ("huge-range", "{% for i in range(10**9) %}x{% endfor %}", "power operator"),
        ("range-over-max", "{% for i in range(1000000) %}x{% endfor %}", "range"),
        ("nested-loops", "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "loop"),
        ("nested-string-loops", "{% for a in 'x' * 90000 %}{% for b in 'x' * 90000 %}{% endfor %}{% endfor %}", "loop"),
        ("string-multiply", "{{ 'a' * 50000000 }}", "over 100,000 characters"),
        ("string-concat-growth", "{% set s = 'x' * 60000 %}{{ s + s }}", "over 100,000 characters"),
        ("big-number", "{{ 10 ** 100 }}", "power operator"),
        ("number-multiply", "{{ 99999999999999999 * 99999999999999999 }}", "too large"),
        ("recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "does not render"),
        ("syntax-error", "{% for x in %}", "body"),
        ("unclosed-block", "{% if true %}hello", "body"),
        ("undefined-variable", "Dear {{ no_such_thing }}", "no_such_thing"),
        ("empty-body", "   ", "write the message body"),
        ("output-too-long", "{% for i in range(90000) %}xy{% endfor %}", "over 100,000 characters"),
    ]
    return [Case(f"template-{cid}", "template", "", body, (why,)) for cid, body, why in rows]


# --- the JSON API -----------------------------------------------------------------------------------------------

def api_cases() -> list[Case]:
    inv = {"number": "INV-9", "customer": "C001", "date": "2026-12-01", "amount": "100.00"}
    rct = {"number": "RCT-9", "customer": "C001", "date": "2026-12-01", "amount": "100.00"}
    rows = [
        ("invoice-amount-words", "/api/v1/invoices", {**inv, "amount": "lots"}, 422, "amount"),
        ("invoice-amount-nan", "/api/v1/invoices", {**inv, "amount": "NaN"}, 422, "amount"),
        ("invoice-amount-infinity", "/api/v1/invoices", {**inv, "amount": "Infinity"}, 422, "amount"),
        ("invoice-amount-exponent", "/api/v1/invoices", {**inv, "amount": "1e400"}, 422, "amount"),
        ("invoice-amount-negative", "/api/v1/invoices", {**inv, "amount": "-5"}, 422, "amount"),
        ("invoice-amount-three-decimals", "/api/v1/invoices", {**inv, "amount": "10.555"}, 422, "amount"),
        ("invoice-amount-huge", "/api/v1/invoices", {**inv, "amount": "9" * 30}, 422, "amount"),
        ("invoice-amount-float-json", "/api/v1/invoices", {**inv, "amount": 0.30000000000000004}, 422, "amount"),
        ("invoice-date-feb-31", "/api/v1/invoices", {**inv, "date": "2026-02-31"}, 422, "date"),
        ("invoice-date-words", "/api/v1/invoices", {**inv, "date": "tomorrow"}, 422, "date"),
        ("invoice-date-far-future", "/api/v1/invoices", {**inv, "date": "2999-01-01"}, 422, "date"),
        ("invoice-date-ancient", "/api/v1/invoices", {**inv, "date": "1800-01-01"}, 422, "date"),
        ("invoice-unknown-customer", "/api/v1/invoices", {**inv, "customer": "C404"}, 404, "customer"),
        ("invoice-duplicate-number", "/api/v1/invoices", {**inv, "number": "INV-1"}, 422, "number"),
        ("invoice-number-too-long", "/api/v1/invoices", {**inv, "number": "N" * 41}, 422, "number"),
        ("invoice-number-nul", "/api/v1/invoices", {**inv, "number": "INV\x009"}, 422, "number"),
        ("invoice-missing-number", "/api/v1/invoices", {k: v for k, v in inv.items() if k != "number"}, 422, "number"),
        ("invoice-lines-too-many", "/api/v1/invoices", {**inv, "lines": [{"description": "x", "rate": "1"}] * 201},
         422, "lines"),
        ("invoice-line-negative-rate", "/api/v1/invoices", {**inv, "lines": [{"description": "x", "rate": "-1"}]}, 422,
         "rate"),
        ("invoice-body-not-object", "/api/v1/invoices", ["not", "an", "object"], 422, ""),
        ("receipt-unknown-mode", "/api/v1/receipts", {**rct, "mode": "bitcoin"}, 422, "mode"),
        ("receipt-allocation-over", "/api/v1/receipts", {**rct, "allocations": [{"invoice": "INV-1", "amount": "500"}]},
         422, "allocations"),
        ("receipt-allocation-unknown", "/api/v1/receipts", {**rct, "allocations": [{"invoice": "X-1", "amount": "5"}]},
         422, "allocations"),
        ("receipt-negative-tds", "/api/v1/receipts", {**rct, "tds": "-1"}, 422, "tds"),
        ("customer-gstin-checksum", "/api/v1/customers", {"code": "C010", "name": "Bad", "gstin": "27AAPFU0939F1ZX"},
         422, "gstin"),
        ("customer-email", "/api/v1/customers", {"code": "C010", "name": "Bad", "email": "not-mail"}, 422, "email"),
        ("customer-code-duplicate", "/api/v1/customers", {"code": "C001", "name": "Again"}, 422, "C001 already exists"),
        ("customer-credit-limit-words", "/api/v1/customers", {"code": "C010", "name": "Bad", "credit_limit": "lots"},
         422, "credit_limit"),
        ("promise-amount-nan", "/api/v1/promises", {"customer": "C001", "amount": "NaN", "promised_date": "2026-12-20"},
         422, "amount"),
        ("dispute-unknown-invoice", "/api/v1/disputes", {"invoice": "INV-404", "amount": "1.00", "reason": "price"},
         404, "invoice"),
    ]
    return [Case(f"api-{cid}", "api", "", body, (fld,), {"path": path, "status": status})
            for cid, path, body, status, fld in rows]


#: Cases also run through the web imports page (the same file, uploaded) and the ``dues import`` command.
WEB_IDS = ("csv-amount-nan", "csv-date-feb-31", "csv-unknown-customer", "csv-duplicate-number-in-db", "csv-empty",
           "csv-duplicate-header", "csv-ragged-unquoted-indian-amount", "csv-nul-byte", "xlsx-not-a-zip",
           "xlsx-zip-bomb", "cus-gstin-checksum", "rct-allocation-not-pair")
CLI_IDS = ("csv-amount-infinity", "csv-date-far-future", "csv-unknown-customer", "csv-duplicate-number-in-file",
           "csv-missing-columns", "csv-ragged-unquoted-indian-amount", "xlsx-zip-bomb", "xlsx-formula-amount",
           "cus-pan-not-in-gstin", "bank-camt-xxe-file", "bank-camt-billion-laughs", "bank-mt940-balance-broken",
           "tally-xxe-file", "tally-truncated")
