"""``dues sync tally``: the live connector to TallyPrime's XML server (HTTP, port 9000 by default).

One sync, for one Tally company on one server:

1. **pull**: the groups, voucher types and ledgers, then the vouchers, whose ALTERID is above the
   highest seen before (``TallySync``), each asked for with an ``Export`` / ``Collection`` request
   carrying an inline TDL collection filtered on ``$ALTERID``; what comes back (native Tally XML) goes
   through ``import_tally`` like a file export would. With a period (``--from``/``--to``) the *Day
   Book* of that period is asked for instead (a full re-export), and the vouchers imported before
   for the period that Tally no longer has are listed -- and reversed when confirmed.
2. **push**: the receipts, credit notes and interest debit notes made in dues and not yet in the export
   log, one ``Import Data`` / ``Vouchers`` request per voucher so that Tally's answer (CREATED,
   ALTERED, ERRORS, LINEERROR) belongs to that document; only the accepted ones are logged as exported,
   a refused one keeps Tally's error (``TallySync.errors``) and is sent again at the next sync.
"""

from __future__ import annotations

import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError
from dues.integrations.models import TallyExport, TallySync, TallyVoucher
from dues.ledger.models import Document
from dues.ledger.services import document_cancel
from dues.users.permissions import require

from .export import documents_to_send, envelope, exported_ids, ledger_map, voucher_messages
from .importer import TallyImportResult, import_tally
from .xml import Group, Ledger, TallyFormatError, Voucher, VoucherType, read_tally

DEFAULT_URL = "http://localhost:9000"
TIMEOUT = 30.0
FETCH = {  # the sub-lists dues reads, beyond the native fields
    "Voucher": "ALLLEDGERENTRIES.LIST, LEDGERENTRIES.LIST",
    "Ledger": "BILLALLOCATIONS.LIST, LEDGSTREGDETAILS.LIST, ADDRESS.LIST, LEDMAILINGDETAILS.LIST",
}
MASTER_TYPES = (("Group", "GROUP"), ("VoucherType", "VOUCHERTYPE"), ("Ledger", "LEDGER"))


class TallyUnreachable(DuesError):
    """Tally's XML server did not answer (not running, wrong port, HTTP server not enabled)."""


@dataclass
class SyncResult:
    url: str
    tally_company: str
    pulled_masters: int = 0
    pulled_vouchers: int = 0
    imported: TallyImportResult | None = None
    pushed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # "kind number" -> Tally's error
    deleted: list[TallyVoucher] = field(default_factory=list)  # absent from a full re-export
    deletions_reversed: bool = False


# ---------------------------------------------------------------------------------------------
# the wire


def post(url: str, body: str, timeout: float = TIMEOUT) -> bytes:
    """POST one XML request to Tally; a clear error when nothing answers."""
    request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "text/xml; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- http(s) checked below
            return response.read()
    except urllib.error.HTTPError as exc:
        raise TallyUnreachable(f"Tally at {url} answered HTTP {exc.code} ({exc.reason})") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TallyUnreachable(
            f"Tally is not reachable at {url} ({reason}): is TallyPrime running with the company open, and is its "
            "HTTP server on (F1 Help > Settings > Connectivity > Client/Server configuration, or Exchange > Data "
            "Synchronization: TallyPrime acts as Server or Both, port 9000)?") from None


def collection_request(tdl_type: str, after: int, tally_company: str) -> str:
    """An ``Export`` / ``Collection`` request with an inline TDL collection of ``tdl_type`` objects
    altered after ``after`` (their ``$ALTERID``), all native fields and sub-lists."""
    name = f"Dues{tdl_type}s"
    company = (f"<SVCURRENTCOMPANY>{escape(tally_company)}</SVCURRENTCOMPANY>" if tally_company else "")
    return ("<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Collection</TYPE>"
            f"<ID>{name}</ID></HEADER><BODY><DESC><STATICVARIABLES>{company}"
            "<SVEXPORTFORMAT>$$SysName:XML</SVEXPORTFORMAT></STATICVARIABLES><TDL><TDLMESSAGE>"
            f'<COLLECTION NAME="{name}" ISMODIFY="No"><TYPE>{tdl_type}</TYPE><NATIVEMETHOD>*</NATIVEMETHOD>'
            + (f"<FETCH>{FETCH[tdl_type]}</FETCH>" if tdl_type in FETCH else "")
            + f"<FILTERS>DuesAltered</FILTERS></COLLECTION>"
            f'<SYSTEM TYPE="Formulae" NAME="DuesAltered">$ALTERID &gt; {int(after)}</SYSTEM>'
            "</TDLMESSAGE></TDL></DESC></BODY></ENVELOPE>")


def daybook_request(start: date, end: date, tally_company: str) -> str:
    """An ``Export Data`` request for the *Day Book* report of a period (native voucher XML)."""
    company = (f"<SVCURRENTCOMPANY>{escape(tally_company)}</SVCURRENTCOMPANY>" if tally_company else "")
    return ("<ENVELOPE><HEADER><TALLYREQUEST>Export Data</TALLYREQUEST></HEADER><BODY><EXPORTDATA><REQUESTDESC>"
            f"<REPORTNAME>Day Book</REPORTNAME><STATICVARIABLES>{company}"
            f"<SVFROMDATE>{start:%Y%m%d}</SVFROMDATE><SVTODATE>{end:%Y%m%d}</SVTODATE>"
            "<SVEXPORTFORMAT>$$SysName:XML</SVEXPORTFORMAT></STATICVARIABLES></REQUESTDESC></EXPORTDATA></BODY>"
            "</ENVELOPE>")


@dataclass
class ImportAnswer:
    created: int = 0
    altered: int = 0
    errors: int = 0
    line_errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.created + self.altered > 0 and self.errors == 0 and not self.line_errors

    def message(self) -> str:
        if self.line_errors:
            return "; ".join(self.line_errors)
        return f"Tally created {self.created}, altered {self.altered}, errors {self.errors}"


def parse_import_answer(raw: bytes) -> ImportAnswer:
    """Tally's answer to Import Data: ``<RESPONSE>`` (or ``ENVELOPE/BODY/DATA/IMPORTRESULT``) with
    CREATED, ALTERED, ERRORS and any LINEERROR. Anything else is an error."""
    text = _decode(raw)
    if not re.search(r"<(CREATED|ERRORS|LINEERROR)>", text):
        snippet = " ".join(text.split())[:200]
        raise DuesError(f"Tally's answer to an import is not an import result: {snippet!r}")

    def count(tag: str) -> int:
        m = re.search(rf"<{tag}>\s*(-?\d+)\s*</{tag}>", text)
        return int(m.group(1)) if m else 0

    errors = [" ".join(_unescape(m).split()) for m in re.findall(r"<LINEERROR>(.*?)</LINEERROR>", text, re.S)]
    return ImportAnswer(count("CREATED"), count("ALTERED"), count("ERRORS"), [e for e in errors if e])


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe") or (len(raw) > 1 and raw[1:2] == b"\x00"):
        return raw.decode("utf-16-le", errors="replace").lstrip("\ufeff")
    return raw.decode("utf-8", errors="replace").lstrip("\ufeff")


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


# ---------------------------------------------------------------------------------------------
# the sync


def sync_state(company, url: str, tally_company: str = "") -> TallySync:
    state, _ = TallySync.objects.get_or_create(company=company, url=url.rstrip("/"), tally_company=tally_company)
    return state


def _check_url(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url or ""):
        raise DuesError(f"--url {url!r}: give Tally's XML server as http://host:port (e.g. {DEFAULT_URL})")
    return url.rstrip("/")


def sync_tally(*, company, url: str = DEFAULT_URL, tally_company: str = "", actor=None,
               start: date | None = None, end: date | None = None, confirm_deletions: bool = False,
               push: bool = True, timeout: float = TIMEOUT) -> SyncResult:
    """Pull what changed in Tally, import it; push what dues made that Tally does not have yet."""
    require(actor, "invoices.post", "sync with Tally")
    url = _check_url(url)
    if (start is None) != (end is None):
        raise DuesError("give both --from and --to for a full re-export of a period")
    state = sync_state(company, url, tally_company)
    result = SyncResult(url, tally_company)
    with tempfile.TemporaryDirectory(prefix="dues-tally-") as folder:
        files: list[Path] = []
        master_top = state.master_alterid
        for tdl_type, _tag in MASTER_TYPES:
            raw = post(url, collection_request(tdl_type, state.master_alterid, tally_company), timeout)
            path = Path(folder) / f"tally-{tdl_type.lower()}s.xml"
            path.write_bytes(raw)
            n, top = _count(path, (Group, Ledger, VoucherType))
            if n:
                files.append(path)
                result.pulled_masters += n
            master_top = max(master_top, top)
        if start is not None:
            raw = post(url, daybook_request(start, end, tally_company), timeout)
        else:
            raw = post(url, collection_request("Voucher", state.voucher_alterid, tally_company), timeout)
        path = Path(folder) / ("tally-daybook.xml" if start is not None else "tally-vouchers.xml")
        path.write_bytes(raw)
        n, voucher_top = _count(path, (Voucher,))
        result.pulled_vouchers = n
        if n:
            files.append(path)
        if files:
            result.imported = import_tally(paths=files, company=company, actor=actor)
        if start is not None:
            present = {v.guid for v in read_tally(path, want=("VOUCHER",)) if isinstance(v, Voucher)}
            result.deleted = missing_vouchers(company, start, end, present)
            if result.deleted and not present and confirm_deletions:
                raise DuesError(f"Tally's Day Book for {start} to {end} has no vouchers at all, while dues imported "
                                f"{len(result.deleted)} for the period: is the right company open in Tally (--company)?"
                                " Nothing was reversed")
            if result.deleted and confirm_deletions:
                reverse_deleted(company, result.deleted, actor=actor, reason=f"deleted in Tally ({url}, Day Book "
                                                                              f"{start} to {end})")
                result.deletions_reversed = True
        state.master_alterid = master_top
        state.voucher_alterid = max(state.voucher_alterid, voucher_top)
        state.save()  # what was pulled is imported: a push that fails below does not pull it again
    if push:
        _push(company, state, result, actor, timeout)
    state.last_synced_at = clock.now()
    state.save()
    return result


def _count(path: Path, kinds) -> tuple[int, int]:
    """How many records of ``kinds`` a response holds, and the highest ALTERID among them."""
    n = 0
    try:
        for r in read_tally(path, want=("GROUP", "LEDGER", "VOUCHERTYPE", "VOUCHER")):
            if isinstance(r, kinds):
                n += 1
    except TallyFormatError as exc:
        raise DuesError(f"Tally's answer is not Tally XML: {exc}") from None
    found = re.findall(r"<ALTERID>\s*(\d+)\s*</ALTERID>", _decode(path.read_bytes()))
    return n, max((int(x) for x in found), default=0)


def _push(company, state: TallySync, result: SyncResult, actor, timeout: float) -> None:
    docs = documents_to_send(company)
    done = exported_ids(company, docs)
    docs = [d for d in docs if d.pk not in done]
    if not docs:
        if state.errors:
            state.errors = {}
        return
    names = ledger_map(company)
    errors: dict[str, str] = {}
    who = actor_name(actor)
    for d, message in zip(docs, voucher_messages(company, docs, names), strict=True):
        label = f"{d.kind} {d.number}"
        answer = parse_import_answer(post(state.url, envelope(company, [message], state.tally_company), timeout))
        if not answer.accepted:
            errors[str(d.pk)] = f"{label}: {answer.message()}"
            result.refused[label] = answer.message()
            continue
        with transaction.atomic():
            TallyExport.objects.create(company=company, document=d, filename=f"sync {state.url}"[:500],
                                       exported_by=who)
            audit_append(actor=actor, action="export", object_type="tally_export", object_id=d.pk,
                         company_id=company.pk, after={"url": state.url, "document": label,
                                                       "created": answer.created, "altered": answer.altered})
        result.pushed.append(label)
    state.errors = errors


# ---------------------------------------------------------------------------------------------
# vouchers deleted in Tally


def missing_vouchers(company, start: date, end: date, present: set[str]) -> list[TallyVoucher]:
    """The vouchers imported for the period (the versions in force) that a full re-export lacks."""
    return list(TallyVoucher.objects.filter(company=company, date__gte=start, date__lte=end,
                                            superseded_by__isnull=True)
                .exclude(base_type__in=["(cancelled)", "(deleted)"]).exclude(guid__in=present)
                .order_by("date", "pk"))


def reverse_deleted(company, vouchers: list[TallyVoucher], *, actor=None, reason: str) -> int:
    """Reverse what each voucher posted (history kept: a ``(deleted)`` marker supersedes it; audited)."""
    count = 0
    with transaction.atomic():
        for tv in vouchers:
            from dues.integrations.models import TallyBill

            docs = list(Document.objects.filter(pk__in=tv.documents, status=Document.POSTED).order_by("pk"))
            for d in docs:
                document_cancel(document=d, on=d.date, reason=f"Tally voucher {tv.guid} {reason}"[:500], actor=actor)
            TallyBill.objects.filter(document__in=docs).delete()
            marker = TallyVoucher.objects.create(company=company, guid=tv.guid, alterid=tv.alterid, vchtype=tv.vchtype,
                                                 base_type="(deleted)", number=tv.number, date=tv.date, documents=[])
            tv.superseded_by = marker
            tv.save(update_fields=["superseded_by"])
            audit_append(actor=actor, action="tally_delete", object_type="tally_voucher", object_id=tv.guid,
                         company_id=company.pk, before={"alterid": tv.alterid, "number": tv.number,
                                                        "date": tv.date.isoformat(), "documents": tv.documents},
                         after={"reason": reason})
            count += 1
    return count
