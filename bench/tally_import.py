"""Tally import benchmark: vouchers per second, streamed, in bounded memory.

Generates a synthetic Day Book (UTF-16LE with a BOM, CRLF, as TallyPrime writes it) with masters for
C debtor ledgers and N vouchers -- sales with a New Ref bill, then receipts settling them Agst Ref
(part with TDS, part on account) -- written to disk piece by piece, then measures:

- parse: ``read_tally`` over the whole file (vouchers/s, MB/s) and the peak memory it adds;
- import: ``import_tally`` into a fresh company on DUES_DATABASE_URL (vouchers/s, documents/s),
  then checks the agreement report says every customer agrees.

    DUES_DATABASE_URL=sqlite:////tmp/tb.sqlite3 .venv/bin/python bench/tally_import.py --vouchers 20000
    .venv/bin/python bench/tally_import.py --parse-only --vouchers 200000     # a ~200 MB file
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_daybook(path: Path, customers: int, vouchers: int, seed: int = 7) -> dict[str, int]:
    """Masters and vouchers; returns the expected paise outstanding per ledger."""
    rnd = random.Random(seed)
    owed = {f"Party {i:05d}": 0 for i in range(customers)}
    with path.open("wb") as f:
        f.write(b"\xff\xfe")

        def w(text: str) -> None:
            f.write(text.replace("\n", "\r\n").encode("utf-16-le"))

        w("<ENVELOPE>\n <HEADER>\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\n </HEADER>\n <BODY>\n  <IMPORTDATA>\n"
          "   <REQUESTDESC><REPORTNAME>All Masters</REPORTNAME></REQUESTDESC>\n   <REQUESTDATA>\n")
        w('<TALLYMESSAGE><GROUP NAME="Sundry Debtors"><PARENT>Current Assets</PARENT></GROUP></TALLYMESSAGE>\n')
        w('<TALLYMESSAGE><VOUCHERTYPE NAME="GST Sale Invoice"><PARENT>Sales</PARENT></VOUCHERTYPE></TALLYMESSAGE>\n')
        for name in owed:
            w(f'<TALLYMESSAGE><LEDGER NAME="{name}"><PARENT>Sundry Debtors</PARENT><LEDSTATENAME>Maharashtra'
              f'</LEDSTATENAME><BILLCREDITPERIOD>30 Days</BILLCREDITPERIOD><ISBILLWISEON>Yes</ISBILLWISEON>'
              f'</LEDGER></TALLYMESSAGE>\n')
        open_bills: list[tuple[str, str, int]] = []
        day0 = 20240401
        for n in range(vouchers):
            day = f"2024{4 + (n * 9 // max(vouchers, 1)):02d}{1 + n % 28:02d}"
            guid = f"bench-{n:08d}"
            if open_bills and (n % 2 == 1):
                party, bill, paise = open_bills.pop(rnd.randrange(len(open_bills)))
                tds = paise // 10 if n % 6 == 1 else 0
                extra = 10000 if n % 10 == 3 else 0  # on account
                total = paise + extra
                owed[party] -= total
                allocs = (f"<BILLALLOCATIONS.LIST><NAME>{bill}</NAME><BILLTYPE>Agst Ref</BILLTYPE>"
                          f"<AMOUNT>{paise / 100:.2f}</AMOUNT></BILLALLOCATIONS.LIST>")
                if extra:
                    allocs += (f"<BILLALLOCATIONS.LIST><BILLTYPE>On Account</BILLTYPE><AMOUNT>{extra / 100:.2f}"
                               "</AMOUNT></BILLALLOCATIONS.LIST>")
                lines = (f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>{party}</LEDGERNAME><ISPARTYLEDGER>Yes</ISPARTYLEDGER>"
                         f"<AMOUNT>{total / 100:.2f}</AMOUNT>{allocs}</ALLLEDGERENTRIES.LIST>"
                         f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>HDFC Bank</LEDGERNAME><AMOUNT>-{(total - tds) / 100:.2f}"
                         "</AMOUNT></ALLLEDGERENTRIES.LIST>")
                if tds:
                    lines += (f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>TDS Receivable</LEDGERNAME><AMOUNT>-{tds / 100:.2f}"
                              "</AMOUNT></ALLLEDGERENTRIES.LIST>")
                vtype, number = "Receipt", f"R/{n}"
            else:
                party = f"Party {rnd.randrange(customers):05d}"
                paise = rnd.randrange(10000, 5000000)
                number = f"S/{n}"
                owed[party] += paise
                open_bills.append((party, number, paise))
                lines = (f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>{party}</LEDGERNAME><ISPARTYLEDGER>Yes</ISPARTYLEDGER>"
                         f"<AMOUNT>-{paise / 100:.2f}</AMOUNT><BILLALLOCATIONS.LIST><NAME>{number}</NAME>"
                         f"<BILLCREDITPERIOD>30 Days</BILLCREDITPERIOD><BILLTYPE>New Ref</BILLTYPE>"
                         f"<AMOUNT>-{paise / 100:.2f}</AMOUNT></BILLALLOCATIONS.LIST></ALLLEDGERENTRIES.LIST>"
                         f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>Sales</LEDGERNAME><AMOUNT>{paise / 100:.2f}</AMOUNT>"
                         "</ALLLEDGERENTRIES.LIST>")
                vtype = "GST Sale Invoice"
            w(f'<TALLYMESSAGE><VOUCHER REMOTEID="{guid}" VCHTYPE="{vtype}" ACTION="Create">\n<DATE>{day}</DATE>'
              f"<GUID>{guid}</GUID><VOUCHERTYPENAME>{vtype}</VOUCHERTYPENAME><VOUCHERNUMBER>{number}</VOUCHERNUMBER>"
              f"<PARTYLEDGERNAME>{party}</PARTYLEDGERNAME><ISCANCELLED>No</ISCANCELLED><ISOPTIONAL>No</ISOPTIONAL>"
              f"<ALTERID> {n + 1}</ALTERID><NARRATION>synthetic voucher {n} of {day0}</NARRATION>\n{lines}\n"
              "</VOUCHER></TALLYMESSAGE>\n")
        w("   </REQUESTDATA>\n  </IMPORTDATA>\n </BODY>\n</ENVELOPE>\n")
    return owed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vouchers", type=int, default=20000)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--parse-only", action="store_true")
    ap.add_argument("--keep", metavar="FILE", help="write the Day Book here and keep it")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dues.settings")
    # a throwaway database: a key of its own for this one process when none is given (nothing signed outlives it)
    os.environ.setdefault("DUES_SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from dues.integrations.tally.xml import Voucher, read_tally

    tmp = Path(tempfile.mkdtemp(prefix="dues-tally-bench-"))
    path = Path(args.keep) if args.keep else tmp / "DayBook.xml"
    t0 = time.perf_counter()
    owed = write_daybook(path, args.customers, args.vouchers)
    size_mb = path.stat().st_size / 1e6
    result = {"vouchers": args.vouchers, "customers": args.customers, "file_mb": round(size_mb, 1),
              "generate_s": round(time.perf_counter() - t0, 2)}
    base = rss_mb()
    t0 = time.perf_counter()
    n = sum(1 for r in read_tally(path) if isinstance(r, Voucher))
    dt = time.perf_counter() - t0
    assert n == args.vouchers, n
    result.update(parse_s=round(dt, 2), parse_vouchers_per_s=round(n / dt), parse_mb_per_s=round(size_mb / dt, 1),
                  parse_peak_rss_added_mb=round(rss_mb() - base, 1))
    if not args.parse_only:
        from decimal import Decimal

        from dues.cli.books import migrate
        from dues.companies.services import company_init

        migrate()
        result["database"] = os.environ.get("DUES_DATABASE_URL", "sqlite (default)").split("@")[-1]
        company, _ = company_init(name="Tally Bench Pvt Ltd", state_code="27", actor="bench")
        from dues.integrations.tally.importer import import_tally

        t0 = time.perf_counter()
        r = import_tally(paths=[path], company=company, actor="bench")
        dt = time.perf_counter() - t0
        bad = [c for c in r.check.customers if c.tally != Decimal(owed[c.ledger]) / 100 or not c.agrees]
        result.update(import_s=round(dt, 2), import_vouchers_per_s=round(r.vouchers_posted / dt),
                      documents_per_s=round(r.documents / dt), documents=r.documents,
                      agrees=r.check.agrees and not bad, import_peak_rss_mb=round(rss_mb(), 1))
    if not args.keep:
        path.unlink()
        tmp.rmdir()
    print(json.dumps(result, indent=2))
    return 0 if result.get("agrees", True) else 1


if __name__ == "__main__":
    sys.exit(main())
