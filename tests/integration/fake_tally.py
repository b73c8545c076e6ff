"""A small fake of TallyPrime's XML server, for tests: ``http.server`` on loopback, port 0.

Its book is built from native Tally XML (the recorded samples, or ``tally_fixtures``): groups, voucher
types, ledgers and vouchers, each with its ALTERID (one given where the XML has none). It answers

- ``Export`` / ``Collection`` requests with an inline TDL collection (``<TYPE>`` Group, Ledger,
  VoucherType or Voucher) filtered on ``$ALTERID > N``: the objects altered after N, inside
  ``ENVELOPE/BODY/DATA/COLLECTION`` as TallyPrime does;
- ``Export Data`` of the *Day Book* report (SVFROMDATE/SVTODATE): the vouchers of the period in the
  native export shape (UTF-16LE with BOM, CRLF), like a Day Book exported by hand;
- ``Import Data`` of ``Vouchers``: each VOUCHER is checked the way Tally would refuse it (voucher type,
  date, known party and ledgers, balanced entries, bill allocations adding up to the party's entry,
  an ``Agst Ref`` naming a bill the party has) and either added to the book (its REMOTEID becomes its
  GUID, a new ALTERID) or refused with a LINEERROR; the answer is Tally's ``<RESPONSE>`` with CREATED,
  ALTERED, ERRORS (and LINEERROR). ``refuse`` names voucher numbers to refuse whatever they hold.

``outstanding()`` is the fake's own bill-wise view: per debtor ledger, the opening balance plus every
entry of the book's vouchers (debit-positive), computed from the XML alone, not with dues' reader.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml.ElementTree import fromstring

MASTER_TAGS = {"Group": "GROUP", "Ledger": "LEDGER", "VoucherType": "VOUCHERTYPE", "Voucher": "VOUCHER"}
BILL_TYPES = {"Agst Ref", "New Ref", "Advance", "On Account"}


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe") or raw[1:2] == b"\x00":
        return raw.decode("utf-16-le").lstrip("\ufeff")
    return raw.decode("utf-8").lstrip("\ufeff")


def amount(text: str | None) -> Decimal:
    return Decimal((text or "0").strip().replace(",", "") or "0")


class FakeTally:
    def __init__(self, *documents: str | bytes):
        self.objects: list[Element] = []  # in the order Tally would list them
        self.next_alterid = 0
        self.accepted: list[Element] = []  # vouchers imported through the XML server
        self.requests: list[str] = []  # the TALLYREQUEST of each request, in order
        self.refuse: set[str] = set()  # voucher numbers to answer with a LINEERROR
        for doc in documents:
            self.load(doc)
        self._server = None

    # -- the book ---------------------------------------------------------------------------------

    def load(self, doc: str | bytes) -> None:
        text = decode(doc) if isinstance(doc, bytes) else doc
        root = fromstring(text.replace("\r\n", "\n"))
        for el in root.iter():
            if el.tag in MASTER_TAGS.values() and el is not root:
                self._add(el)

    def _add(self, el: Element) -> None:
        given = (el.findtext("ALTERID") or "").strip()
        if given.isdigit():
            self.next_alterid = max(self.next_alterid, int(given))
        else:
            self.next_alterid += 1
            for old in el.findall("ALTERID"):
                el.remove(old)
            SubElement(el, "ALTERID").text = str(self.next_alterid)
        self.objects.append(el)

    def alterid(self, el: Element) -> int:
        return int(el.findtext("ALTERID").strip())

    def vouchers(self) -> list[Element]:
        return [el for el in self.objects if el.tag == "VOUCHER"]

    def delete_voucher(self, guid: str) -> None:
        self.objects = [el for el in self.objects if not (el.tag == "VOUCHER" and self._guid(el) == guid)]

    def _guid(self, el: Element) -> str:
        return (el.findtext("GUID") or el.get("REMOTEID") or "").strip()

    def ledgers(self) -> dict[str, Element]:
        return {el.get("NAME", "").strip(): el for el in self.objects if el.tag == "LEDGER"}

    def debtor_ledgers(self) -> set[str]:
        parent = {el.get("NAME", "").strip(): (el.findtext("PARENT") or "").strip()
                  for el in self.objects if el.tag == "GROUP"}

        def under(group: str) -> bool:
            seen = set()
            while group and group not in seen:
                if group == "Sundry Debtors":
                    return True
                seen.add(group)
                group = parent.get(group, "")
            return False

        return {name for name, el in self.ledgers().items() if under((el.findtext("PARENT") or "").strip())}

    def bills(self, ledger: str) -> set[str]:
        names = {(b.findtext("NAME") or "").strip() for b in self.ledgers()[ledger].findall("BILLALLOCATIONS.LIST")}
        for v in self.vouchers():
            for e in v.findall("ALLLEDGERENTRIES.LIST") + v.findall("LEDGERENTRIES.LIST"):
                if (e.findtext("LEDGERNAME") or "").strip() == ledger:
                    names |= {(b.findtext("NAME") or "").strip() for b in e.findall("BILLALLOCATIONS.LIST")}
        return names - {""}

    def outstanding(self) -> dict[str, Decimal]:
        """Per debtor ledger, what it owes (debit-positive): -(opening + entries), Tally's signs."""
        debtors = self.debtor_ledgers()
        owed = {name: -amount(self.ledgers()[name].findtext("OPENINGBALANCE")) for name in debtors}
        for v in self.vouchers():
            if (v.findtext("ISCANCELLED") or "").strip() == "Yes" or (v.findtext("ISOPTIONAL") or "").strip() == "Yes":
                continue
            for e in v.findall("ALLLEDGERENTRIES.LIST") + v.findall("LEDGERENTRIES.LIST"):
                name = (e.findtext("LEDGERNAME") or "").strip()
                if name in owed:
                    owed[name] -= amount(e.findtext("AMOUNT"))
        return owed

    # -- answers ----------------------------------------------------------------------------------

    def answer(self, body: bytes) -> tuple[bytes, str]:
        root = fromstring(decode(body))
        assert root.tag == "ENVELOPE", root.tag
        request = (root.findtext("HEADER/TALLYREQUEST") or "").strip()
        self.requests.append(request)
        if request.lower() == "export" and (root.findtext("HEADER/TYPE") or "").lower() == "collection":
            return self._collection(root), "text/xml; charset=utf-8"
        if request == "Export Data":
            return self._report(root), "text/xml; charset=utf-16"
        if request == "Import Data":
            return self._import(root), "text/xml; charset=utf-8"
        return b"<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>0</STATUS></HEADER><BODY><DATA>" \
               b"<LINEERROR>Unknown Request, cannot be processed</LINEERROR></DATA></BODY></ENVELOPE>", "text/xml"

    def _collection(self, root) -> bytes:
        collection = root.find("BODY/DESC/TDL/TDLMESSAGE/COLLECTION")
        kind = MASTER_TAGS[(collection.findtext("TYPE") or "").strip()]
        after = 0
        for formula in root.findall("BODY/DESC/TDL/TDLMESSAGE/SYSTEM"):
            m = re.fullmatch(r"\s*\$ALTERID\s*>\s*(\d+)\s*", formula.text or "")
            assert formula.get("TYPE") == "Formulae" and m, formula.text
            after = int(m.group(1))
        assert (collection.findtext("FILTERS") or "").strip() == "DuesAltered"
        found = [el for el in self.objects if el.tag == kind and self.alterid(el) > after]
        return ("<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER><BODY><DESC></DESC><DATA>"
                "<COLLECTION>" + "".join(tostring(el, encoding="unicode") for el in found)
                + "</COLLECTION></DATA></BODY></ENVELOPE>").encode("utf-8")

    def _report(self, root) -> bytes:
        desc = root.find("BODY/EXPORTDATA/REQUESTDESC")
        assert (desc.findtext("REPORTNAME") or "").strip() == "Day Book"
        start = (desc.findtext("STATICVARIABLES/SVFROMDATE") or "").strip()
        end = (desc.findtext("STATICVARIABLES/SVTODATE") or "").strip()
        found = [v for v in self.vouchers() if start <= (v.findtext("DATE") or "").strip() <= end]
        text = ("<ENVELOPE>\r\n <HEADER>\r\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\r\n </HEADER>\r\n <BODY>\r\n"
                "  <IMPORTDATA>\r\n   <REQUESTDESC>\r\n    <REPORTNAME>Vouchers</REPORTNAME>\r\n   </REQUESTDESC>\r\n"
                "   <REQUESTDATA>\r\n" + "\r\n".join(f'<TALLYMESSAGE xmlns:UDF="TallyUDF">'
                                                   f'{tostring(v, encoding="unicode")}</TALLYMESSAGE>' for v in found)
                + "\r\n   </REQUESTDATA>\r\n  </IMPORTDATA>\r\n </BODY>\r\n</ENVELOPE>\r\n")
        return b"\xff\xfe" + text.encode("utf-16-le")

    def _import(self, root) -> bytes:
        data = root.find("BODY/IMPORTDATA")
        assert data is not None, "no BODY/IMPORTDATA"
        assert (data.findtext("REQUESTDESC/REPORTNAME") or "").strip() == "Vouchers"
        created, errors = 0, []
        for message in data.findall("REQUESTDATA/TALLYMESSAGE"):
            for v in message.findall("VOUCHER"):
                problem = self._refusal(v)
                if problem:
                    errors.append(problem)
                    continue
                v.append(Element("GUID"))
                v.find("GUID").text = v.get("REMOTEID") or f"fake-{self.next_alterid + 1}"
                self._add(v)
                self.accepted.append(v)
                created += 1
        out = (f"<RESPONSE><CREATED>{created}</CREATED><ALTERED>0</ALTERED><DELETED>0</DELETED>"
               f"<LASTVCHID>{self.next_alterid}</LASTVCHID><LASTMID>0</LASTMID><COMBINED>0</COMBINED>"
               f"<IGNORED>0</IGNORED><ERRORS>{len(errors)}</ERRORS><CANCELLED>0</CANCELLED>"
               + "".join(f"<LINEERROR>{e}</LINEERROR>" for e in errors) + "</RESPONSE>")
        return out.encode("utf-8")

    def _refusal(self, v: Element) -> str:
        """Why Tally would not take this voucher ('' when it would)."""
        number = (v.findtext("VOUCHERNUMBER") or "").strip()
        if number in self.refuse:
            return f"Voucher Number '{number}' already exists!"
        if not v.get("VCHTYPE") or (v.findtext("VOUCHERTYPENAME") or "").strip() != v.get("VCHTYPE"):
            return "Voucher Type does not exist!"
        if not re.fullmatch(r"\d{8}", (v.findtext("DATE") or "").strip()):
            return "Invalid Date!"
        ledgers = self.ledgers()
        party = (v.findtext("PARTYLEDGERNAME") or "").strip()
        if party not in ledgers:
            return f"Ledger '{party}' does not exist!"
        entries = v.findall("ALLLEDGERENTRIES.LIST")
        if len(entries) < 2:
            return "Voucher has fewer than two ledger entries"
        if sum(amount(e.findtext("AMOUNT")) for e in entries) != 0:
            return "Voucher totals do not match!"
        for e in entries:
            name = (e.findtext("LEDGERNAME") or "").strip()
            if name not in ledgers:
                return f"Ledger '{name}' does not exist!"
            bills = e.findall("BILLALLOCATIONS.LIST")
            if name == party:
                if not bills:
                    return f"Bill-wise details of '{party}' are missing"
                if sum(amount(b.findtext("AMOUNT")) for b in bills) != amount(e.findtext("AMOUNT")):
                    return f"Bill allocations of '{party}' do not match the amount"
                known = self.bills(party)
                for b in bills:
                    kind, bill = (b.findtext("BILLTYPE") or "").strip(), (b.findtext("NAME") or "").strip()
                    if kind not in BILL_TYPES:
                        return f"Invalid bill type '{kind}'"
                    if kind == "Agst Ref" and bill not in known:
                        return f"Bill '{bill}' of '{party}' does not exist"
        return ""

    # -- the server -------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload, kind = fake.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
