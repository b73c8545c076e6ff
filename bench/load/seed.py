"""Seed a database for the load test: the web benchmark's generated book (dues.bench.web.load_book) of N customers
on a fresh database, and desk users (AR manager, collector, administrator, round robin) who sign in with one password.

    DUES_DATABASE_URL=... python bench/load/seed.py --customers 10000 --users 20 --password-file FILE

Prints a JSON summary (counts, the user names) on stdout. Refuses a database that already holds books.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROLES = ("ar_manager", "collector", "admin")  # the roles that work the desk all day


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--users", type=int, default=20, help="how many desk users to create")
    parser.add_argument("--password-file", required=True, help="a file whose first line is the users' password")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    with open(args.password_file, encoding="utf-8") as f:
        password = f.readline().strip()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dues.settings")
    import django

    django.setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.management import call_command

    from dues.bench.web import load_book
    from dues.bench.workload import require_fresh
    from dues.companies.services import company_init
    from dues.ledger.models import OpenItem
    from dues.users.services import user_add

    try:  # before minutes of loading, not after
        validate_password(password)
    except ValidationError as exc:
        parser.error(f"--password-file {args.password_file}: {' '.join(exc.messages)}")
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    require_fresh()
    company, _ = company_init(name="Load Test Traders Pvt Ltd", state_code="27", actor="bench")
    book = load_book(company, args.customers, seed=args.seed,
                     progress=lambda message: print(message, file=sys.stderr, flush=True))
    users = []
    for n in range(args.users):
        role = ROLES[n % len(ROLES)]
        name = f"load-{role.replace('_', '-')}-{n + 1:02d}"
        user_add(username=name, role=role, password=password, actor="bench")
        users.append(name)
    print(json.dumps({"customers": book.customers, "documents": book.documents,
                      "open_items": OpenItem.objects.filter(company=company).exclude(residual=0).count(),
                      "open_invoices": book.open_items, "allocations": book.allocations,
                      "audit_records": book.audit_records, "as_of": book.as_of.isoformat(), "users": users,
                      "seconds": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
