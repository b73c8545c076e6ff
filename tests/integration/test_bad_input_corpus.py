"""The bad-input corpus (tests/integration/bad_inputs.py) through every real entry point: the import service the
CLI and web call, the web imports page, the ``dues import`` command, bank statements, Tally XML, the JSON API and
the message template editor. Each case must be refused with a clear message naming the file (and row and field)
and must leave the database exactly as it was: every dues table's row count, the audit chain's head and the sum
of open balances."""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from dues.core.errors import DuesError
from tests.conftest import dues_env

from . import api_fixtures
from . import bad_inputs as corpus

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

api_book = api_fixtures.api_book  # the fixture
TABULAR = corpus.tabular_cases()
BANK = corpus.bank_cases()
TALLY = corpus.tally_cases()
TEMPLATES = corpus.template_cases()
API = corpus.api_cases()
BY_ID = {c.id: c for c in TABULAR + BANK + TALLY}
ALL_IDS = [c.id for c in TABULAR + BANK + TALLY + TEMPLATES + API]
assert len(ALL_IDS) == len(set(ALL_IDS)), "corpus case ids must be unique"


def _ids(cases):
    return [c.id for c in cases]


def _bytes(data) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def snapshot() -> tuple:
    """Row counts of every dues table, the audit chain's head and the open balance: what a refusal must not move
    (one query, so the corpus stays quick)."""
    if not _TABLES:
        present = set(connection.introspection.table_names())
        _TABLES.extend(sorted({m._meta.db_table for m in apps.get_models()
                               if m.__module__.startswith("dues.") and m._meta.db_table in present}))
    counts = ", ".join(f'(SELECT COUNT(*) FROM "{t}")' for t in _TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}, (SELECT seq FROM audit_head WHERE id = 1), "
                       "(SELECT hash FROM audit_head WHERE id = 1), (SELECT SUM(residual) FROM ledger_openitem)")
        row = cursor.fetchone()
    return tuple(zip(_TABLES, row[:len(_TABLES)], strict=True)), row[len(_TABLES):]


_TABLES: list[str] = []


def refused(exc: BaseException) -> str:
    """What the person sees: a DuesError's text (every problem of a ValidationFailed, one a line)."""
    assert isinstance(exc, DuesError), f"not a user-facing error: {type(exc).__name__}: {exc}"
    text = str(exc)
    assert text.strip() and "Traceback" not in text
    return text


def assert_says(text: str, expect) -> None:
    for words in expect:
        assert words in text, f"{words!r} not in the message:\n{text}"


@pytest.fixture
def book(company, make_customer, post):
    """Two customers, an invoice each and an on-account receipt: what bad files are checked against."""
    c1 = make_customer("C001", name="Shree Ganesh Traders", gstin="27AAPFU0939F1ZV")
    c2 = make_customer("C002", name="Kaveri Distributors", state="29")
    post("invoice", "INV-1", c1, "2026-04-01", "1180.00", taxable_value=Decimal("1000.00"))
    post("invoice", "INV-2", c2, "2026-04-01", "590.00", taxable_value=Decimal("500.00"))
    post("receipt", "RCT-1", c1, "2026-05-01", "100.00")
    return company


# --- CSV/XLSX imports through the service the CLI and the web page call -------------------------------------

@pytest.mark.parametrize("case", TABULAR, ids=_ids(TABULAR))
def test_import_file_refuses(case, book, tmp_path):
    from dues.integrations.importers import import_file

    path = tmp_path / case.name
    path.write_bytes(_bytes(case.data))
    before = snapshot()
    with pytest.raises(Exception) as exc:  # noqa: PT011 - which kind is asserted by refused()
        import_file(kind=case.kind, path=path, company=book, actor="test")
    assert_says(refused(exc.value), case.expect)
    assert snapshot() == before


@pytest.mark.parametrize("case_id", corpus.WEB_IDS)
def test_the_web_imports_page_refuses(case_id, book, client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_web_imports import login

    case = BY_ID[case_id]
    settings.DUES_UPLOAD_DIR = str(tmp_path / "uploads")
    login(client, "admin")
    before = snapshot()
    upload = SimpleUploadedFile(case.name, _bytes(case.data))
    response = client.post("/imports/", {"action": "preview", "kind": case.kind, "file": upload})
    assert response.status_code == 422
    assert b'name="token"' not in response.content  # no preview to commit
    page = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()))
    assert "Traceback" not in page
    for words in case.expect:
        # the page lists problems as a table: FILE | ROW | FIELD | PROBLEM
        table = re.sub(r"^(\S+?):(\d+): (?:(\w+): )?$", lambda m: " ".join(g for g in m.groups() if g), words)
        assert " ".join(words.split()) in page or table in page, f"{words!r} not on the page:\n{page[-3000:]}"
    assert snapshot() == before


# --- bank statements, Tally XML ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", BANK, ids=_ids(BANK))
def test_bank_statement_import_refuses(case, book):
    from dues.banking.services import bank_statement_import

    before = snapshot()
    with pytest.raises(Exception) as exc:  # noqa: PT011
        bank_statement_import(company=book, path=case.name, data=_bytes(case.data), actor="test",
                              preset=case.extra.get("preset", "generic"))
    assert_says(refused(exc.value), case.expect)
    assert snapshot() == before


@pytest.mark.parametrize("case", TALLY, ids=_ids(TALLY))
def test_tally_import_refuses(case, book, tmp_path):
    from dues.integrations.tally.importer import import_tally

    path = tmp_path / case.name
    path.write_bytes(_bytes(case.data))
    before = snapshot()
    with pytest.raises(Exception) as exc:  # noqa: PT011
        import_tally(paths=[path], company=book, actor="test")
    assert_says(refused(exc.value), case.expect)
    assert snapshot() == before


# --- message templates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", TEMPLATES, ids=_ids(TEMPLATES))
def test_a_hostile_message_template_is_refused(case, book):
    from dues.collections.services.messages import message_template_save

    before = snapshot()
    with pytest.raises(Exception) as exc:  # noqa: PT011
        message_template_save(company=book, name="reminder-1", language="en", subject="Payment reminder",
                              body=case.data, actor="test")
    text = refused(exc.value)
    assert "body" in text  # the field at fault
    assert_says(text, case.expect)
    assert snapshot() == before


# --- the JSON API -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", API, ids=_ids(API))
def test_the_api_refuses(case, api_book):
    from django.test import Client

    before = snapshot()
    response = Client().post(case.extra["path"], data=json.dumps(case.data), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {api_book['tokens']['admin']}")
    assert response.status_code == case.extra["status"], response.content[:500]
    body = response.json()
    assert body["detail"]
    if case.expect[0]:
        fields = {e["field"] for e in body.get("errors", [])}
        assert any(case.expect[0] in f for f in fields) or case.expect[0] in body["detail"], body
        assert all(e["message"] for e in body.get("errors", []))
    assert snapshot() == before


# --- the dues command -------------------------------------------------------------------------------------------


def _db_state(url: str) -> tuple:
    """Row counts of every table and the audit head of the database the command uses, read from outside."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    else:
        import psycopg

        conn = psycopg.connect(url)
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    try:
        counts = tuple((n, conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in sorted(names))
        head = tuple(conn.execute("SELECT seq, hash FROM audit_head").fetchone())
        return counts, head
    finally:
        conn.close()


@pytest.fixture(scope="module")
def cli_book(tmp_path_factory):
    """A database set up by the command itself: a company, the customers and an invoice."""
    tmp = tmp_path_factory.mktemp("cli")
    main = os.environ.get("DUES_DATABASE_URL", "")
    if main.startswith("postgres"):
        import uuid

        import psycopg

        base = main.split("?")[0].rsplit("/", 1)[0]
        name = f"dues_corpus_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
    else:
        url = f"sqlite:///{tmp / 'var' / 'dues.sqlite3'}"
    env = dues_env(tmp, url)

    def dues(*args, check=True):
        exe = Path(sys.executable).with_name("dues")
        proc = subprocess.run([str(exe), *map(str, args)], env=env, capture_output=True, text=True, timeout=300,
                              cwd=tmp)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    dues("init", "--company", "Corpus Traders", "--state", "27")
    (tmp / "c.csv").write_text("code,name,gstin,state\nC001,Shree Ganesh Traders,27AAPFU0939F1ZV,27\n"
                               "C002,Kaveri Distributors,,29\n")
    dues("import", "customers", tmp / "c.csv")
    (tmp / "i.csv").write_text("number,customer,date,amount\nINV-1,C001,2026-04-01,1180\n")
    dues("import", "invoices", tmp / "i.csv")
    yield dues, url, tmp
    if main.startswith("postgres"):
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("case_id", corpus.CLI_IDS)
def test_the_dues_import_command_refuses(case_id, cli_book):
    dues, url, tmp = cli_book
    case = BY_ID[case_id]
    path = tmp / case_id / case.name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(_bytes(case.data))
    before = _db_state(url)
    proc = dues("import", case.kind, path, check=False)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "error" in proc.stderr
    assert_says(" ".join(proc.stderr.split()), [" ".join(e.split()) for e in case.expect])
    assert _db_state(url) == before
