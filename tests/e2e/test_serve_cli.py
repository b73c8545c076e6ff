"""`dues serve` warns, once, when other machines can reach it over plain HTTP (see docs/configuration.md)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import dues_env

WARNING = "warning: serving plain HTTP on"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env, host: str) -> tuple[str, str]:
    """Start `dues serve --host HOST`, wait until it says it serves, stop it: (stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "serve", "--host", host, "--port", str(free_port())],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        out = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "dues web app on" in line:
                break
        assert any("dues web app on" in line for line in out), "".join(out)
    finally:
        proc.terminate()
        rest, err = proc.communicate(timeout=30)
    return "".join(out) + rest, err


@pytest.fixture
def env(tmp_path):
    env = dues_env(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("DUES_HTTPS", None)
    env.pop("DUES_ALLOWED_HOSTS", None)
    return env


def test_serving_on_every_address_warns_once_about_plain_http_and_the_hosts(env):
    out, err = serve(env, "0.0.0.0")
    assert err.count(WARNING) == 1
    assert "DUES_HTTPS=1" in err and "DUES_ALLOWED_HOSTS is not set" in err
    assert WARNING not in out


def test_serving_on_loopback_or_behind_tls_says_nothing(env):
    _out, err = serve(env, "127.0.0.1")
    assert WARNING not in err
    env.update(DUES_HTTPS="1", DUES_ALLOWED_HOSTS="dues.example.com")
    _out, err = serve(env, "0.0.0.0")
    assert WARNING not in err
