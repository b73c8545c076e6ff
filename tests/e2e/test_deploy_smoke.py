"""The container's entry point, run on the host: deploy/entrypoint.sh web applies the migrations (dues init) and
starts gunicorn with two worker processes; readiness, liveness, a login and a page, the JSON access log, and a
graceful stop on SIGTERM. The database is the kind under test (SQLite file, or a new PostgreSQL database).

compose.yaml and the Containerfile are checked against what exists (the entry point's commands, the settings'
environment variables, the health URLs): this machine has no container runtime to start them.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
PASSWORD = "smoke-pass-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deploy_env(tmp_path: Path, db_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUES_") or k == "DUES_NOW"}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", DUES_HOME=str(tmp_path / "home"),
               DUES_DATABASE_URL=db_url, DUES_SECRET_KEY="smoke-test-secret-key-0123456789-abcdefghijklmnop",
               DUES_COMPANY_NAME="Smoke Traders Pvt Ltd", DUES_LOG_FORMAT="json", **extra)
    return env


def fetch(opener, url: str, data: dict | None = None, headers: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def wait_ready(proc, base: str, log: Path, seconds: float = 120) -> dict:
    opener = urllib.request.build_opener()
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited ({proc.returncode}) before it was ready:\n{log.read_text()[-4000:]}")
        try:
            status, _headers, body = fetch(opener, f"{base}/readyz")
            last = (status, body)
            if status == 200:
                return json.loads(body)
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"/readyz never answered 200 (last: {last}):\n{log.read_text()[-4000:]}")


def json_lines(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):  # a plain line that starts with a brace
                records.append(json.loads(line))
    return records


def test_entrypoint_serves_with_gunicorn_and_stops_gracefully(tmp_path, scratch_db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = deploy_env(tmp_path, scratch_db, DUES_BIND=f"127.0.0.1:{port}")
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(ENTRYPOINT), "web", "--workers", "2"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
    try:
        ready = wait_ready(proc, base, log)
        assert ready["status"] == "ready"
        assert ready["checks"]["database"] == "ok" and ready["checks"]["migrations"] == "ok"
        text = log.read_text()
        assert "created company" in text  # dues init ran before the server
        assert len(re.findall(r"Booting worker with pid", text)) == 2, text[-3000:]

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, _h, body = fetch(opener, f"{base}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})

        subprocess.run([str(ENTRYPOINT), "user", "add", "smoke", "--role", "ar_manager", "--password-stdin"],
                       input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True, cwd=tmp_path)
        status, _h, body = fetch(opener, f"{base}/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        status, _h, body = fetch(opener, f"{base}/login/",
                                 {"csrfmiddlewaretoken": token, "username": "smoke", "password": PASSWORD})
        assert status == 200 and "Smoke Traders" in body  # the redirect to the dashboard, signed in
        status, headers, body = fetch(opener, f"{base}/customers/", headers={"X-Request-ID": "smoke-customers-1"})
        assert status == 200 and "Customers" in body
        assert headers["X-Request-ID"] == "smoke-customers-1"
        status, _h, _b = fetch(opener, f"{base}/static/web/dues.css")
        assert status == 200  # static files through whitenoise

        deadline = time.monotonic() + 10
        while True:  # the worker writes its log line after the response
            records = [r for r in json_lines(log.read_text()) if r.get("request_id") == "smoke-customers-1"]
            if records or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(records) == 1, log.read_text()[-3000:]
        record = records[0]
        assert {k: record[k] for k in ("logger", "level", "method", "path", "status", "user")} == {
            "logger": "dues.request", "level": "INFO", "method": "GET", "path": "/customers/", "status": 200,
            "user": "smoke"}
        assert record["duration_ms"] > 0 and record["timestamp"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "Handling signal: term" in text and "Shutting down: Master" in text


def test_readyz_is_503_until_dues_init_has_migrated(tmp_path, scratch_db):
    """The server alone (no dues init) on an empty database: alive, but not ready, naming the migrations."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = deploy_env(tmp_path, scratch_db)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "server", "--bind", f"127.0.0.1:{port}",
                                 "--workers", "1"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                start_new_session=True)
    try:
        opener = urllib.request.build_opener()
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                status, _h, body = fetch(opener, f"{base}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
        assert status == 200
        status, _h, body = fetch(opener, f"{base}/readyz")
        ready = json.loads(body)
        assert status == 503 and ready["status"] == "not ready"
        assert ready["failed"] == ["migrations"] and "not applied (run dues init)" in ready["checks"]["migrations"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=45) == 0


# ---------------------------------------------------------------------------------------------
# the container files, against what exists


def _compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_starts_the_whole_stack_through_the_entrypoint():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "proxy"}
    containerfile = (ROOT / "Containerfile").read_text()
    assert services["web"]["build"]["dockerfile"] == "Containerfile"
    assert "COPY deploy/entrypoint.sh /usr/local/bin/dues-entrypoint" in containerfile
    assert 'ENTRYPOINT ["dues-entrypoint"]' in containerfile and "USER dues" in containerfile
    assert containerfile.startswith("#") and "FROM python:3.13-slim" in containerfile
    entrypoint = ENTRYPOINT.read_text()
    for name in ("web", "worker"):  # each service's command is one the entry point handles
        assert services[name]["image"] == services["web"]["image"]
        assert re.search(rf"^  {services[name]['command'][0]}\)$", entrypoint, re.M)
    # the worker starts after the web service's dues init (readiness), the proxy after the web service
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    caddy = services["proxy"]["volumes"][0].split(":")[0]
    caddyfile = (ROOT / caddy).read_text()
    port = re.search(r"DUES_BIND=0\.0\.0\.0:(\d+)", containerfile).group(1)
    assert f"reverse_proxy web:{port}" in caddyfile and "/healthz" in caddyfile


def test_compose_sets_only_environment_variables_that_dues_reads():
    compose = _compose()
    env = dict(compose["services"]["web"]["environment"])
    assert env["DUES_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DUES_DATABASE_URL"]
    assert env["DUES_REDIS_URL"].startswith("redis://redis:") and env["DUES_JOBS_QUEUE"].startswith("redis://redis:")
    assert compose["services"]["worker"]["environment"]["DUES_JOBS_QUEUE"] == env["DUES_JOBS_QUEUE"]
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "dues").rglob("*.py")) + ENTRYPOINT.read_text()
    for name in env:
        assert name.startswith("DUES_"), name
        assert f'"{name}"' in source or f"${{{name}" in source, f"{name} is set in compose.yaml but nothing reads it"
