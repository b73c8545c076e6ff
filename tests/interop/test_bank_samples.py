"""Every real bank sample in shared/data/bank: it parses and balances, or it is refused with a clear reason.

The samples come from other parsers' test suites (see shared/data/SOURCES.md). Many of the MT940
ones are deliberately tiny fragments or invented data whose balances do not add up; those are
listed below with the reason they are refused. A file refused only for its balance must parse
cleanly with the balance check off, so the refusal is the arithmetic and nothing else. camt samples
with a same-named .json (genkgo/camt's own parse) are compared field by field.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from dues.core.errors import ValidationFailed
from dues.integrations.bank import parse_statement

pytestmark = pytest.mark.interop

ROOT = Path(os.environ.get("DUES_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
BANK = ROOT / "bank"

BALANCE = "does not balance"
FRAGMENT = "a fragment, not a statement"
# sample -> the reason it is refused (a substring of the error)
REFUSED = {
    # deliberately broken upstream
    "mt940/oca/test-wrong-file.940": "unknown field '9401'",
    "mt940/wolph-mt940/betterplace/sepa_snippet_broken.sta": BALANCE,
    "mt940/wolph-mt940/self-provided/invalid_statement.sta": "no MT940 fields",
    "mt940/wolph-mt940/self-provided/empty_non_swift.sta": "no statement in the file",
    "camt/genkgo-camt/camt053.v2.wrong.xml": "has no <Stmt>",
    "camt/ofxstatement-iso20022/unsupported.xml": "unsupported XML namespace 'urn:weird-namespace'",
    "ofx/oca/test_ofx_wrong.ofx": "names no account",
    "ofx/ofxparse/fail_nice/date_missing.ofx": "DTPOSTED: a transaction has no posting date",
    "ofx/ofxparse/fail_nice/decimal_error.ofx": "TRNAMT: not an amount: '$120'",
    "ofx/ofxparse/fail_nice/empty_balance.ofx": "BALAMT: is empty",
    # single-field snippets from parser unit tests (SOURCES.md: "not full statements")
    **{f"mt940/wolph-mt940/{name}": FRAGMENT for name in (
        "betterplace/amount_formats.sta", "betterplace/currency_in_25.sta", "betterplace/empty_86.sta",
        "betterplace/empty_entry_date.sta", "betterplace/empty_line.sta", "betterplace/missing_crlf_at_end.sta",
        "cmxl/account_balance_credit.sta", "cmxl/account_balance_debit.sta", "cmxl/account_identification_iban.sta",
        "cmxl/account_identification_legacy.sta", "cmxl/available_balance.sta", "cmxl/closing_balance.sta",
        "cmxl/reference.sta", "cmxl/statement_details.sta", "cmxl/statement_line.sta", "cmxl/statement_number.sta",
        "self-provided/account_identification.sta", "self-provided/sparkassen.sta")},
    # invented or trimmed test data whose lines do not add up to the closing balance
    **{name: BALANCE for name in (
        "mt940/wolph-mt940/betterplace/sepa_snippet.sta", "mt940/wolph-mt940/jejik/ing.sta",
        "mt940/wolph-mt940/jejik/abnamro.sta", "mt940/wolph-mt940/jejik/rabobank.sta",
        "mt940/wolph-mt940/jejik/knab.sta", "mt940/wolph-mt940/jejik/postfinance.sta",
        "mt940/wolph-mt940/jejik/triodos.sta", "mt940/wolph-mt940/mBank/with_newline_in_tnr.sta",
        "mt940/wolph-mt940/self-provided/details_60-63.sta", "mt940/wolph-mt940/self-provided/malformed_details.sta",
        "mt940/wolph-mt940/self-provided/overly_long_details.sta", "mt940/wolph-mt940/self-provided/whitespace.sta",
        "mt940/wolph-mt940/self-provided/raiffeisen-cmi.sta", "camt/genkgo-camt/camt053.v2.all-balance-types.xml",
        "camt/genkgo-camt/camt053.v2.five.decimals.xml", "camt/oca/test-camt053.xml",
        "camt/ofxstatement-iso20022/gcamp6.xml")},
    # a balance field without its currency (:62F:C020315105000,00)
    "mt940/wolph-mt940/self-provided/raphaelm.sta": "not a balance",
    # OFX files with no bank statement in them: sign-on only, errors, investment accounts
    "ofx/ofxparse/account_listing_aggregation.ofx": "nothing to import",
    "ofx/ofxparse/bank_small.ofx": "nothing to import",
    "ofx/ofxparse/error_message.ofx": "the bank returned error 2000",
    "ofx/ofxparse/signon_fail.ofx": "refused the sign-on (code 15500",
    "ofx/ofxparse/signon_success.ofx": "nothing to import",
    "ofx/ofxparse/signon_success_no_message.ofx": "nothing to import",
    "ofx/ofxtools/profrs.ofx": "refused the sign-on",
    "ofx/ofxparse/ofx-v102-empty-tags.ofx": "BALAMT: is empty",
    **{f"ofx/{name}": "only investment statements" for name in (
        "ofxparse/fidelity-savings.ofx", "ofxparse/fidelity.ofx", "ofxparse/investment_401k.ofx",
        "ofxparse/investment_medium.ofx", "ofxparse/td_ameritrade.ofx", "ofxparse/tiaacref.ofx",
        "ofxparse/vanguard.ofx", "ofxparse/vanguard401k.ofx", "ofxtools/invstmtrs.ofx")},
}


def _samples() -> list[str]:
    if not BANK.is_dir():
        return []
    return sorted(str(p.relative_to(BANK)) for p in BANK.rglob("*") if p.is_file() and p.suffix != ".json")


@pytest.fixture(scope="module", autouse=True)
def _shared_data():
    if not BANK.is_dir():
        reason = f"no shared bank samples at {BANK} (set DUES_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def test_the_sample_set_is_the_one_described():
    assert len(_samples()) >= 120
    missing = [name for name in REFUSED if not (BANK / name).is_file()]
    assert not missing, missing


@pytest.mark.parametrize("name", _samples() or ["(none)"])
def test_each_sample_parses_or_is_refused_with_its_reason(name):
    path = BANK / name
    data = path.read_bytes()
    if name not in REFUSED:
        statements = parse_statement(data, path.name)
        assert statements
        for st in statements:
            assert st.account_number or st.format in ("mt942",), f"{st.label}: no account"
            for t in st.transactions:
                assert t.amount >= 0 and t.direction in ("C", "D") and t.booking_date
            if st.opening is not None and st.closing is not None and st.opening.currency == st.closing.currency:
                assert st.opening.amount + st.credits - st.debits == st.closing.amount
        return
    with pytest.raises(ValidationFailed) as exc:
        parse_statement(data, path.name)
    message = str(exc.value)
    assert REFUSED[name] in message
    assert path.name in message  # every problem names the file
    if REFUSED[name] == BALANCE:
        statements = parse_statement(data, path.name, check=False)  # only the arithmetic is wrong
        assert statements and all(st.opening is not None and st.closing is not None for st in statements)


# ---- camt against genkgo/camt's expected parse ------------------------------------------------------------

EXPONENT = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


def _minor(amount: Decimal, currency: str) -> int:
    scaled = amount * (Decimal(10) ** EXPONENT.get(currency, 2))
    assert scaled == scaled.to_integral_value(), f"{amount} {currency} has more decimals than the currency"
    return int(scaled)


def _oracles() -> list[str]:
    folder = BANK / "camt" / "genkgo-camt"
    return sorted(p.stem for p in folder.glob("*.json") if (folder / f"{p.stem}.xml").is_file()) if folder.is_dir() \
        else []


@pytest.mark.parametrize("stem", _oracles() or ["(none)"])
def test_camt_matches_genkgo_expected_parse(stem):
    folder = BANK / "camt" / "genkgo-camt"
    expected = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    statements = parse_statement((folder / f"{stem}.xml").read_bytes(), f"{stem}.xml", check=False)
    by_id = {st.statement_id: st for st in statements}
    # The oracle is a serialised object graph with cycles cut ("__RECURSIVITY__"): it holds the message's
    # entries (each with its full statement) but the records list only as placeholders. So we compare every
    # statement reachable from an entry, and the statement count where records are listed. The group header
    # (message id, recipient) is not comparable: we do not keep it.
    assert len(statements) == len(expected["getRecords"])
    if not expected["getEntries"]:  # e.g. camt53.only-Dt-with-DtTm: a statement with balances and no entries
        assert all(not st.transactions for st in statements)
    for entry in expected["getEntries"]:
        record = entry["getRecord"]
        st = by_id[record["getId"]]
        account = record.get("getAccount") or {}
        assert st.account_number == account.get("getIdentification")
        for bal in record.get("getBalances") or []:
            mine = {"opening": st.opening, "closing": st.closing}.get(bal["getType"])
            if mine is None or bal["getType"] == "opening" and mine.on is None:
                continue  # other balance types (available, forward, interim) are not kept
            money = bal["getAmount"]
            if bal["getType"] == "opening" and _minor(mine.amount, money["getCurrency"]["getCode"]) != int(
                    money["getAmount"]):
                continue  # genkgo lists OPBD and PRCD both as 'opening'; we keep OPBD (the first)
            assert mine.currency == money["getCurrency"]["getCode"]
            assert _minor(mine.amount, mine.currency) == int(money["getAmount"]), bal["getType"]
            assert mine.on.isoformat() == bal["getDate"]["0"][:10]
        txn = st.transactions[entry["getIndex"]]
        money = entry["getAmount"]
        assert txn.currency == money["getCurrency"]["getCode"]
        assert _minor(txn.signed, txn.currency) == int(money["getAmount"])
        assert txn.direction == {"CRDT": "C", "DBIT": "D"}[entry["getCreditDebitIndicator"]]
        assert txn.reversal == bool(entry["getReversalIndicator"])
        assert txn.booked == (entry["getStatus"] in (None, "BOOK"))
        if entry.get("getBookingDate"):
            assert txn.booking_date.isoformat() == entry["getBookingDate"]["0"][:10]
        if entry.get("getValueDate"):
            assert txn.value_date.isoformat() == entry["getValueDate"]["0"][:10]
        if entry.get("getAccountServicerReference"):
            assert txn.reference == entry["getAccountServicerReference"]
        detail = entry.get("getTransactionDetail") or {}
        e2e = (detail.get("getReference") or {}).get("getEndToEndId")
        if e2e and e2e != "NOTPROVIDED":
            assert txn.end_to_end_id == e2e
        # Not compared: genkgo's bank transaction code objects (we keep one code string), charges, and
        # related-party address details (we keep the counterparty name and account only).
