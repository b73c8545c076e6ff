"""``dues server``: the production web server (gunicorn, several worker processes). ``dues serve`` stays the
laptop's single-process waitress server."""

from __future__ import annotations

import os

import click

from .main import cli


def default_workers() -> int:
    """Two worker processes per core plus one (gunicorn's rule of thumb), at most 16."""
    return min(16, 2 * (os.cpu_count() or 1) + 1)


def gunicorn_options(*, bind: str, workers: int, threads: int, timeout: int, graceful_timeout: int,
                     max_requests: int, access_log: bool) -> dict:
    """gunicorn's settings for dues. With DUES_LOG_FORMAT=json the app logs each request itself (one JSON line,
    dues.web.request_log), so gunicorn's own access log is left off there to avoid a second, plain line."""
    from django.conf import settings

    json_logs = settings.LOG_FORMAT == "json"
    options = {
        "bind": [b.strip() for b in bind.split(",") if b.strip()],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": graceful_timeout,
        "max_requests": max_requests,
        "max_requests_jitter": max_requests // 10 if max_requests else 0,
        "preload_app": True,  # Django is set up once, in the master; a broken setting fails before any fork
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "dues",
        # a proxy on this machine or in the compose network sets X-Forwarded-*; trust it from anywhere only when
        # DUES_FORWARDED_ALLOW_IPS says so
        "forwarded_allow_ips": os.environ.get("DUES_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }
    if access_log and not json_logs:
        options["accesslog"] = "-"
    return options


def run_gunicorn(options: dict) -> None:
    from django.core.management import call_command
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    call_command("collectstatic", interactive=False, verbosity=0)  # before the app (whitenoise) looks for them
    from dues.wsgi import application

    connections.close_all()  # nothing opened in the master is shared with the forked workers

    class DuesApplication(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    DuesApplication().run()


@cli.command("server")
@click.option("--bind", default=lambda: os.environ.get("DUES_BIND", "127.0.0.1:8000"), show_default="$DUES_BIND or "
              "127.0.0.1:8000", help="HOST:PORT (or unix:/path) to listen on; several separated by commas")
@click.option("--workers", type=click.IntRange(1, 64), default=lambda: int(os.environ.get("DUES_WEB_WORKERS") or
              default_workers()), show_default="$DUES_WEB_WORKERS or 2 x cores + 1",
              help="worker processes")
@click.option("--threads", type=click.IntRange(1, 64), default=lambda: int(os.environ.get("DUES_WEB_THREADS") or 1),
              show_default="$DUES_WEB_THREADS or 1", help="threads per worker (more than 1: gthread workers)")
@click.option("--timeout", type=click.IntRange(5), default=120, show_default=True,
              help="seconds a request may take before its worker is restarted (the ageing XLSX of a big book)")
@click.option("--graceful-timeout", type=click.IntRange(1), default=30, show_default=True,
              help="on SIGTERM, seconds given to requests in flight before the workers are stopped")
@click.option("--max-requests", type=click.IntRange(0), default=2000, show_default=True,
              help="restart a worker after this many requests (0: never), against slow memory growth")
@click.option("--no-access-log", is_flag=True, help="no access log lines (plain log format only)")
def server(bind, workers, threads, timeout, graceful_timeout, max_requests, no_access_log):
    """Run the web app in production: gunicorn with several worker processes (see docs/deployment.md).

    SIGTERM (or Ctrl+C) stops it gracefully: it stops accepting connections and lets requests in flight
    finish (up to --graceful-timeout). After an upgrade restart it (the app is preloaded). Health: /healthz, /readyz.
    Run `dues init` first (the container's entrypoint does): it applies pending migrations.
    """
    run_gunicorn(gunicorn_options(bind=bind, workers=workers, threads=threads, timeout=timeout,
                                  graceful_timeout=graceful_timeout, max_requests=max_requests,
                                  access_log=not no_access_log))
