"""Small native Tally XML documents written in tests (masters and a Day Book), in Tally's own shape."""

from __future__ import annotations


def bills(*rows: tuple[str, str, str]) -> str:
    """rows of (bill type, name, AMOUNT as Tally writes it: negative = debit)."""
    out = []
    for kind, name, amount in rows:
        out.append(f"<BILLALLOCATIONS.LIST><NAME>{name}</NAME><BILLCREDITPERIOD>30 Days</BILLCREDITPERIOD>"
                   f"<BILLTYPE>{kind}</BILLTYPE><AMOUNT>{amount}</AMOUNT></BILLALLOCATIONS.LIST>")
    return "".join(out)


def entry(ledger: str, amount: str, party: bool = False, bill_rows: str = "") -> str:
    return (f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>{ledger}</LEDGERNAME>"
            f"<ISDEEMEDPOSITIVE>{'Yes' if amount.startswith('-') else 'No'}</ISDEEMEDPOSITIVE>"
            f"<ISPARTYLEDGER>{'Yes' if party else 'No'}</ISPARTYLEDGER><AMOUNT>{amount}</AMOUNT>"
            f"{bill_rows or '<BILLALLOCATIONS.LIST>       </BILLALLOCATIONS.LIST>'}</ALLLEDGERENTRIES.LIST>")


def voucher(guid: str, vchtype: str, number: str, on: str, party: str, entries: str, alterid: int = 1,
            cancelled: bool = False, optional: bool = False) -> str:
    return (f'<TALLYMESSAGE vchtype="{vchtype}"><VOUCHER REMOTEID="{guid}" VCHTYPE="{vchtype}" ACTION="Create">'
            f"<DATE>{on}</DATE><GUID>{guid}</GUID><PARTYLEDGERNAME>{party}</PARTYLEDGERNAME>"
            f"<VOUCHERTYPENAME>{vchtype}</VOUCHERTYPENAME><VOUCHERNUMBER>{number}</VOUCHERNUMBER>"
            f"<ISOPTIONAL>{'Yes' if optional else 'No'}</ISOPTIONAL><ISCANCELLED>{'Yes' if cancelled else 'No'}"
            f"</ISCANCELLED><ALTERID> {alterid}</ALTERID>{entries}</VOUCHER></TALLYMESSAGE>")


MASTERS = """
<TALLYMESSAGE><GROUP NAME="Sundry Debtors" RESERVEDNAME="Sundry Debtors"><PARENT>Current Assets</PARENT></GROUP></TALLYMESSAGE>
<TALLYMESSAGE><GROUP NAME="Debtors - West" RESERVEDNAME=""><PARENT>Sundry Debtors</PARENT></GROUP></TALLYMESSAGE>
<TALLYMESSAGE><GROUP NAME="Mumbai Dealers" RESERVEDNAME=""><PARENT>Debtors - West</PARENT></GROUP></TALLYMESSAGE>
<TALLYMESSAGE><VOUCHERTYPE NAME="GST Sale Invoice" RESERVEDNAME=""><PARENT>Sales</PARENT></VOUCHERTYPE></TALLYMESSAGE>
<TALLYMESSAGE><VOUCHERTYPE NAME="Bank Receipt" RESERVEDNAME=""><PARENT>Receipt</PARENT></VOUCHERTYPE></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="Acme Traders" RESERVEDNAME=""><GUID>g-led-acme</GUID><PARENT>Mumbai Dealers</PARENT>
 <ADDRESS.LIST TYPE="String"><ADDRESS>12 Dock Road</ADDRESS><ADDRESS>Mumbai 400001</ADDRESS></ADDRESS.LIST>
 <LEDGSTREGDETAILS.LIST><APPLICABLEFROM>20170701</APPLICABLEFROM><GSTIN>27AAPFU0939F1ZV</GSTIN></LEDGSTREGDETAILS.LIST>
 <LEDSTATENAME>Maharashtra</LEDSTATENAME><LEDGERCONTACT>R. Shah</LEDGERCONTACT><EMAIL>accounts@acme.example</EMAIL>
 <LEDGERMOBILE>9820000000</LEDGERMOBILE><BILLCREDITPERIOD>45 Days</BILLCREDITPERIOD><CREDITLIMIT>-500000.00</CREDITLIMIT>
 <ISBILLWISEON>Yes</ISBILLWISEON><OPENINGBALANCE>-15000.00</OPENINGBALANCE>
 <BILLALLOCATIONS.LIST><NAME>OB/1</NAME><BILLDATE>20240310</BILLDATE><BILLCREDITPERIOD>30 Days</BILLCREDITPERIOD><OPENINGBALANCE>-10000.00</OPENINGBALANCE></BILLALLOCATIONS.LIST>
 <BILLALLOCATIONS.LIST><NAME>OB/2</NAME><BILLDATE>20240320</BILLDATE><OPENINGBALANCE>-5000.00</OPENINGBALANCE></BILLALLOCATIONS.LIST>
</LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="Bharat Stores" RESERVEDNAME=""><GUID>g-led-bharat</GUID><PARENT>Sundry Debtors</PARENT>
 <PARTYGSTIN>29AAGCB7383J1Z4</PARTYGSTIN><LEDSTATENAME>Karnataka</LEDSTATENAME><ISBILLWISEON>Yes</ISBILLWISEON>
 <OPENINGBALANCE>-2000.00</OPENINGBALANCE></LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="Sabu Suppliers" RESERVEDNAME=""><PARENT>Sundry Creditors</PARENT><OPENINGBALANCE>7000.00</OPENINGBALANCE></LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="HDFC Bank" RESERVEDNAME=""><PARENT>Bank Accounts</PARENT></LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="Sales" RESERVEDNAME=""><PARENT>Sales Accounts</PARENT></LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><LEDGER NAME="TDS Receivable" RESERVEDNAME=""><PARENT>Loans &amp; Advances (Asset)</PARENT></LEDGER></TALLYMESSAGE>
"""


def daybook() -> str:
    """Sales, receipts (Agst Ref with TDS, On Account, Advance), a credit note, a TDS journal, a purchase,
    a cancelled and an optional voucher."""
    return "".join([
        voucher("g-s1", "GST Sale Invoice", "S/1", "20240401", "Acme Traders",
                entry("Acme Traders", "-11800.00", True, bills(("New Ref", "S/1", "-11800.00")))
                + entry("Sales", "10000.00") + entry("Output IGST", "1800.00")),
        voucher("g-s2", "Sales", "S/2", "20240405", "Acme Traders",
                entry("Acme Traders", "-5900.00", True, bills(("New Ref", "S/2", "-5900.00")))
                + entry("Sales", "5900.00")),
        voucher("g-s3", "Sales", "S/3", "20240406", "Bharat Stores",
                entry("Bharat Stores", "-3000.00", True, bills(("New Ref", "S/3", "-3000.00")))
                + entry("Sales", "3000.00")),
        voucher("g-r1", "Bank Receipt", "R/1", "20240410", "Acme Traders",
                entry("Acme Traders", "11000.00", True, bills(("Agst Ref", "S/1", "10800.00"),
                                                               ("On Account", "", "200.00")))
                + entry("HDFC Bank", "-10000.00") + entry("TDS Receivable", "-1000.00")),
        voucher("g-r2", "Receipt", "R/2", "20240412", "Acme Traders",
                entry("Acme Traders", "4000.00", True, bills(("Agst Ref", "OB/1", "4000.00")))
                + entry("HDFC Bank", "-4000.00")),
        voucher("g-r3", "Receipt", "R/3", "20240413", "Bharat Stores",
                entry("Bharat Stores", "1500.00", True, bills(("Advance", "ADV/1", "1500.00")))
                + entry("HDFC Bank", "-1500.00")),
        voucher("g-c1", "Credit Note", "CN/1", "20240415", "Acme Traders",
                entry("Acme Traders", "590.00", True, bills(("Agst Ref", "S/2", "590.00")))
                + entry("Sales", "-590.00")),
        voucher("g-j1", "Journal", "J/1", "20240420", "",
                entry("Acme Traders", "1000.00", True, bills(("Agst Ref", "S/1", "1000.00")))
                + entry("TDS Receivable", "-1000.00")),
        voucher("g-p1", "Purchase", "P/1", "20240421", "Sabu Suppliers",
                entry("Sabu Suppliers", "7000.00", True, bills(("New Ref", "B-77", "7000.00")))
                + entry("Purchase", "-7000.00")),
        voucher("g-x1", "Sales", "S/9", "20240422", "Acme Traders",
                entry("Acme Traders", "-999.00", True, bills(("New Ref", "S/9", "-999.00"))) + entry("Sales", "999.00"),
                cancelled=True),
        voucher("g-x2", "Sales", "S/10", "20240423", "Acme Traders",
                entry("Acme Traders", "-888.00", True, bills(("New Ref", "S/10", "-888.00"))) + entry("Sales", "888.00"),
                optional=True),
    ])


def envelope(body: str, company: str = "Test Traders") -> str:
    return ("<ENVELOPE>\r\n <HEADER>\r\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\r\n </HEADER>\r\n <BODY>\r\n"
            "  <IMPORTDATA>\r\n   <REQUESTDESC>\r\n    <REPORTNAME>All Masters</REPORTNAME>\r\n"
            f"    <STATICVARIABLES><SVCURRENTCOMPANY>{company}</SVCURRENTCOMPANY></STATICVARIABLES>\r\n"
            f"   </REQUESTDESC>\r\n   <REQUESTDATA>\r\n{body}\r\n   </REQUESTDATA>\r\n  </IMPORTDATA>\r\n </BODY>\r\n"
            "</ENVELOPE>\r\n")


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")
