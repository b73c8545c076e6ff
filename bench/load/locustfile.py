"""Locust load test of the desk: each simulated user signs in through the login form as one of the desk users
and walks the main pages (dashboard, worklist, customers, a customer's page, ageing, the ageing XLSX export,
invoices, receipts, search) with a short pause between pages, as a person would.

Run by bench/load/run (the full bench) and tests/e2e/test_load_short.py (the CI short form), against a server
started with `dues server`. Environment:

  DUES_LOAD_USERS      comma-separated user names to sign in as (round robin over the simulated users)
  DUES_LOAD_PASSWORD   their password
  DUES_LOAD_WAIT       "MIN,MAX" seconds between two pages of one user (default 0.5,2)
  DUES_LOAD_XLSX       0 to leave out the ageing XLSX export (default 1)

Each request is named by its page ("customer page", not one name per customer), so the statistics give a p95
per page. A response that is not 200, or a page that landed on the login form, counts as a failure.
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import HttpUser, between, task

USERS = [u.strip() for u in os.environ.get("DUES_LOAD_USERS", "").split(",") if u.strip()]
PASSWORD = os.environ.get("DUES_LOAD_PASSWORD", "")
WAIT = [float(x) for x in os.environ.get("DUES_LOAD_WAIT", "0.5,2").split(",")]
XLSX = os.environ.get("DUES_LOAD_XLSX", "1") != "0"
_next_user = itertools.count()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CUSTOMER_LINK = re.compile(r'href="/customers/([^"/?#]+)/"')
SEARCH_WORDS = ("balaji", "steel", "traders", "krishna", "polymers")


class DeskUser(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        if not USERS or not PASSWORD:
            raise RuntimeError("set DUES_LOAD_USERS and DUES_LOAD_PASSWORD")
        self.username = USERS[next(_next_user) % len(USERS)]
        self.customers: list[str] = []
        page = self.client.get("/login/", name="login form")
        token = CSRF.search(page.text)
        with self.client.post("/login/", name="login", catch_response=True,
                              data={"csrfmiddlewaretoken": token.group(1) if token else "",
                                    "username": self.username, "password": PASSWORD}) as response:
            if response.status_code != 200 or "/login/" in response.url:
                response.failure(f"sign-in as {self.username} failed ({response.status_code})")

    def _page(self, url: str, name: str, *, html: bool = True):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif html and ("/login/" in response.url or "csrfmiddlewaretoken" in response.text
                           and 'name="password"' in response.text):
                response.failure("signed out: the login form came back")
            return response

    @task(3)
    def dashboard(self):
        self._page("/", "dashboard")

    @task(3)
    def worklist(self):
        self._page("/worklist/", "worklist")

    @task(3)
    def customers(self):
        response = self._page(f"/customers/?page={random.randint(1, 20)}", "customers list")
        found = CUSTOMER_LINK.findall(response.text or "")
        if found:
            self.customers = found

    @task(4)
    def customer_page(self):
        if not self.customers:
            self.customers = CUSTOMER_LINK.findall(self._page("/customers/", "customers list").text or "")
        if self.customers:
            self._page(f"/customers/{random.choice(self.customers)}/", "customer page")

    @task(2)
    def ageing(self):
        self._page("/ageing/", "ageing")

    @task(1)
    def ageing_by_salesperson(self):
        self._page("/ageing/?by=salesperson", "ageing by salesperson")

    @task(1)
    def ageing_xlsx(self):
        if XLSX:
            response = self._page("/ageing/?export=xlsx", "ageing XLSX (all customers)", html=False)
            if response.status_code == 200 and not response.content.startswith(b"PK"):
                response.failure("not an XLSX file")

    @task(2)
    def invoices(self):
        self._page("/invoices/?status=overdue", "invoices overdue")

    @task(2)
    def receipts(self):
        self._page("/receipts/", "receipts")

    @task(1)
    def search(self):
        self._page(f"/search/?q={random.choice(SEARCH_WORDS)}", "search")
