"""Bank statement parsers on synthetic files: Indian CSV/XLSX layouts, MT940, camt.053, OFX (pure, no database)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import ValidationFailed
from dues.integrations.bank import detect_format, parse_statement
from dues.integrations.bank.model import narration_details
from dues.integrations.bank.tabular import parse_date, parse_money

HDFC = """\
HDFC BANK Ltd.,,,,,,
Account No :50100123456789,,,,,,
Statement From : 01/04/24 To : 30/04/24,,,,,,
IFSC : HDFC0000123,,,,,,
,,,,,,
Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance
01/04/24,NEFT CR-ICIC0000456-SHREE GANESH TRADERS-N123456789012,0000000000000000,01/04/24,,"1,23,456.00","2,23,456.00"
02/04/24,UPI/412345678901/Ravi Kumar/ravi.k@okhdfcbank/HDFC Bank,0000412345678901,02/04/24,,500.00,"2,23,956.00"
03/04/24,CHQ PAID-MICR CTS-PATIL STEEL,000123,03/04/24,"23,956.00",,"2,00,000.00"
,,,,,,
STATEMENT SUMMARY,,,,,,
"""


def test_hdfc_csv_with_preamble_indian_grouping_and_running_balance():
    [st] = parse_statement(HDFC.encode(), "hdfc.csv", preset="hdfc")
    assert st.account_number == "50100123456789" and st.bank_id == "HDFC0000123"
    assert [t.row for t in st.transactions] == [7, 8, 9]
    neft, upi, chq = st.transactions
    assert (neft.booking_date, neft.amount, neft.direction) == (date(2024, 4, 1), Decimal("123456.00"), "C")
    # the reference column is all zeros: the UTR comes from the narration, with the payer and IFSC
    assert (neft.reference, neft.counterparty_name, neft.counterparty_ifsc, neft.bank_code) == (
        "N123456789012", "SHREE GANESH TRADERS", "ICIC0000456", "NEFT")
    assert (upi.reference, upi.counterparty_upi, upi.counterparty_name) == ("0000412345678901", "ravi.k@okhdfcbank",
                                                                           "Ravi Kumar")
    assert (chq.direction, chq.amount, chq.cheque_number) == ("D", Decimal("23956.00"), "000123")
    assert st.opening.amount == Decimal("100000.00") and st.closing.amount == Decimal("200000.00")
    assert st.credits == Decimal("123956.00") and st.debits == Decimal("23956.00")


def test_running_balance_break_names_file_row_and_field():
    broken = HDFC.replace('"2,23,956.00"', '"2,23,957.00"')
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(broken.encode(), "hdfc.csv", preset="hdfc")
    [p] = exc.value.problems
    assert (p.source, p.row, p.field) == ("hdfc.csv", 8, "balance")
    assert "2,23,957" not in str(p) and "223957.00" in str(p)


def test_bad_amount_and_bad_date_each_named():
    bad = HDFC.replace('"1,23,456.00"', '"1,23,4x6.00"').replace("03/04/24,CHQ", "31/02/24,CHQ")
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(bad.encode(), "hdfc.csv", preset="hdfc")
    assert [(p.row, p.field) for p in exc.value.problems] == [(7, "credit"), (9, "date")]
    assert "hdfc.csv:9: date: no such date: '31/02/24'" in str(exc.value)


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_icici_xlsx_both_header_variants():
    classic = _xlsx([
        ["DETAILED STATEMENT"], ["Account Number", "000401234567 ( INR ) - ACME"], [],
        ["S No.", "Value Date", "Transaction Date", "Cheque Number", "Transaction Remarks",
         "Withdrawal Amount (INR )", "Deposit Amount (INR )", "Balance (INR )"],
        [1, "05/04/2024", "05/04/2024", "-", "IMPS-409612345678-KAMAL ENTERPRISES-SBIN-XXXXXXX1234", 0, 25000.5, 125000.5],
        [2, "06/04/2024", "06/04/2024", "-", "BIL/ONL/000123/ELECTRICITY", 1000.25, 0, 124000.25],
    ])
    [st] = parse_statement(classic, "icici.xlsx", preset="icici")
    imps, bill = st.transactions
    assert (imps.amount, imps.direction, imps.reference, imps.counterparty_name) == (
        Decimal("25000.5"), "C", "409612345678", "KAMAL ENTERPRISES")
    assert (bill.amount, bill.direction) == (Decimal("1000.25"), "D")
    assert st.opening.amount == Decimal("100000.0")

    current = _xlsx([
        ["Transaction ID", "Value Date", "Description", "Transaction Amount(INR)", "Cr/Dr", "Available Balance(INR)"],
        ["S81234567", "21-04-2024", "NEFT-HDFCN52024042112345-MEHTA AND SONS", "1,50,000.00", "CR", "1,50,000.00"],
        ["S81234568", "22-04-2024", "Charges", "118.00", "DR", "1,49,882.00"],
    ])
    [st] = parse_statement(current, "icici-ca.xlsx", preset="icici")
    assert [(t.reference, t.direction, t.amount) for t in st.transactions] == [
        ("S81234567", "C", Decimal("150000.00")), ("S81234568", "D", Decimal("118.00"))]


def test_sbi_tab_separated_with_month_names_and_blank_cells():
    text = ("Account Name\t: ACME\nAccount Number\t: 00000031234567890\n\n"
            "Txn Date\tValue Date\tDescription\tRef No./Cheque No.\tDebit\tCredit\tBalance\n"
            "21 Apr 2024\t21 Apr 2024\tBY TRANSFER-NEFT*HDFC0000001*N112233*SHAH TRADERS\tTRANSFER FROM 3199\t \t"
            "12,500.00\t62,500.00\n"
            "22 Apr 2024\t22 Apr 2024\tATM WDL\t \t2,500.00\t \t60,000.00\n")
    [st] = parse_statement(text.encode(), "sbi.xls.txt", preset="sbi")
    assert st.account_number == "00000031234567890"
    assert [(t.booking_date, t.direction, t.amount) for t in st.transactions] == [
        (date(2024, 4, 21), "C", Decimal("12500.00")), (date(2024, 4, 22), "D", Decimal("2500.00"))]
    assert st.transactions[0].counterparty_ifsc == "HDFC0000001"


def test_axis_newest_first_is_read_backwards_and_generic_map():
    text = ("Name :- ACME STEEL\nCustomer ID :- 123\nIFSC Code :- UTIB0000999\n"
            "Statement of Account No - 917020012345678 for the period (From : 01-04-2024 To : 30-04-2024)\n\n"
            "Tran Date,CHQNO,PARTICULARS,DR,CR,BAL,SOL\n"
            "02-04-2024,-,UPI/P2A/412399999999/MOHAN/Axis Bank,,1000.00   ,11000.00  ,999\n"
            "01-04-2024,-,BY CLG 004455 PATEL,,5000.00   ,10000.00  ,999\n")
    [st] = parse_statement(text.encode(), "axis.csv", preset="axis")
    assert [t.booking_date.day for t in st.transactions] == [1, 2]  # put in date order
    assert st.opening.amount == Decimal("5000.00") and st.closing.amount == Decimal("11000.00")
    assert st.account_number == "917020012345678" and st.bank_id == "UTIB0000999"
    mapped = "When,What,In\n2024-05-01,Cash,10.00\n"
    [st] = parse_statement(mapped.encode(), "own.csv", preset="generic",
                           mapping={"date": "When", "narration": "What", "credit": "In"})
    assert (st.transactions[0].amount, st.transactions[0].narration) == (Decimal("10.00"), "Cash")
    with pytest.raises(ValidationFailed, match="no header row found"):
        parse_statement(mapped.encode(), "own.csv", preset="generic")


def test_dates_and_amounts_as_indian_banks_write_them():
    assert parse_date("21/04/24") == date(2024, 4, 21)
    assert parse_date("21 Apr 2024") == date(2024, 4, 21)
    assert parse_date("21-Apr-2024") == date(2024, 4, 21)
    assert parse_date("01.05.2024") == date(2024, 5, 1)
    assert parse_money("1,23,456.00") == (Decimal("123456.00"), "")
    assert parse_money("5,000.00 Cr") == (Decimal("5000.00"), "C")
    assert parse_money(" - ") == (None, "")
    with pytest.raises(ValueError):
        parse_money("12.3.4")


def test_narrations():
    d = narration_details("UPI/412345678901/SHREE GANESH/sgt@ybl/Yes Bank")
    assert (d.channel, d.reference, d.upi) == ("UPI", "412345678901", "sgt@ybl")
    d = narration_details("RTGS CR-SBIN0001234-MAHALAXMI STEELS PVT LTD-SBINR52024010100012345")
    assert (d.channel, d.reference, d.name, d.ifsc) == ("RTGS", "SBINR52024010100012345", "MAHALAXMI STEELS PVT LTD",
                                                        "SBIN0001234")


MT940 = b"""{1:F01HDFCINBBAXXX0000000000}{2:I940HDFCINBBXXXXN}{4:
:20:STMT-2024-04
:25:HDFC0000123/50100123456789
:28C:17/1
:60F:C240401INR100000,00
:61:2404010401C123456,00NTRFNONREF//N123456789012
:86:NEFT CR-ICIC0000456-SHREE GANESH TRADERS-N123456789012
:61:2404030403D23956,NCHK000123
:86:CHQ PAID-MICR CTS-PATIL STEEL
:62F:C240403INR199500,00
-}"""


def test_mt940_statement_lines_and_balance():
    assert detect_format(MT940, "x.sta") == "mt940"
    [st] = parse_statement(MT940, "hdfc.sta")
    assert (st.statement_id, st.account_number, st.bank_id, st.currency) == ("STMT-2024-04/17/1", "50100123456789",
                                                                             "HDFC0000123", "INR")
    neft, chq = st.transactions
    assert (neft.reference, neft.counterparty_name, neft.amount) == ("N123456789012", "SHREE GANESH TRADERS",
                                                                     Decimal("123456.00"))
    assert (chq.direction, chq.amount, chq.bank_code, chq.reference) == ("D", Decimal("23956"), "NCHK", "000123")
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(MT940.replace(b"199500,00", b"199500,01"), "hdfc.sta")
    [p] = exc.value.problems
    assert p.source == "hdfc.sta" and p.field == "balance" and "difference 0.01" in p.message


def test_mt940_bad_line_named():
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(MT940.replace(b":61:2404030403D23956,N", b":61:24040304X3D23956,N"), "hdfc.sta")
    [p] = exc.value.problems
    assert (p.row, p.field) == (8, ":61:")


CAMT = b"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-04-05T10:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><Othr><Id>50100123456789</Id></Othr></Id><Ccy>INR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-04-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">1500.12345</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-04-02</Dt></Dt></Bal>
<Ntry><Amt Ccy="INR">500.12345</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><DtTm>2024-04-02T09:30:00</DtTm></BookgDt><AcctSvcrRef>UTR0001</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>INV-12</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>Shree Ganesh Traders</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>9988776655</Id></Othr></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>Payment INV-12</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="INR">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
<BookgDt><Dt>2024-04-02</Dt></BookgDt></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


def test_camt053_v8_five_decimals_pending_entries_and_counterparty():
    [st] = parse_statement(CAMT, "s.xml")
    booked, pending = st.transactions
    assert booked.amount == Decimal("500.12345") and booked.booking_date == date(2024, 4, 2)
    assert (booked.reference, booked.end_to_end_id, booked.counterparty_name, booked.counterparty_account) == (
        "UTR0001", "INV-12", "Shree Ganesh Traders", "9988776655")
    assert not pending.booked  # pending lines do not move the balance: 1000 + 500.12345 = 1500.12345
    with pytest.raises(ValidationFailed, match="does not balance"):
        parse_statement(CAMT.replace(b"1500.12345", b"1599.12345"), "s.xml")
    with pytest.raises(ValidationFailed, match="not well-formed XML"):
        parse_statement(CAMT[:200], "s.xml", fmt="camt053")
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'
    with pytest.raises(ValidationFailed):
        parse_statement(bomb, "bomb.xml")


OFX_SGML = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240405</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>INR<BANKACCTFROM><BANKID>HDFC0000123<ACCTID>50100123456789<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20240401<DTEND>20240405
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240402120000[+5.5:IST]<TRNAMT>1,250.50<FITID>UTR9<NAME>MEHTA & SONS<MEMO>INV 44</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240403<TRNAMT>-50.00<FITID>F2<NAME>CHARGES</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>5200.50<DTASOF>20240405</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def test_ofx_sgml_without_closing_tags():
    [st] = parse_statement(OFX_SGML, "s.ofx")
    credit, debit = st.transactions
    assert (credit.amount, credit.direction, credit.reference, credit.narration) == (
        Decimal("1250.50"), "C", "UTR9", "MEHTA & SONS INV 44")
    assert (debit.amount, debit.direction) == (Decimal("50.00"), "D")
    assert st.closing.amount == Decimal("5200.50") and st.opening is None
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(OFX_SGML.replace(b"<TRNAMT>-50.00", b"<TRNAMT>$50"), "s.ofx")
    [p] = exc.value.problems
    assert (p.field, p.row) == ("TRNAMT", 10)
