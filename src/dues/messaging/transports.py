"""Getting a dunning message out: e-mail (SMTP or an outbox folder), SMS/WhatsApp (a webhook), letters.

Settings come from the environment, read when a message is sent:

- ``DUES_SMTP_URL``: ``smtp://user:password@host:587?tls=1`` (``smtps://`` for implicit TLS); without it
  e-mails are written as ``.eml`` files to ``$DUES_HOME/outbox/`` so nothing is lost and a person can
  read (or forward) them.
- ``DUES_MAIL_FROM`` (default ``accounts@localhost``), ``DUES_MAIL_REPLY_TO`` (optional).
- ``DUES_SMS_WEBHOOK_URL``: SMS and WhatsApp messages are POSTed there as JSON
  ``{"channel", "to", "text", "customer", "key"}``; without it they go to the outbox as ``.json``.

A transport either returns a short note (where the message went) or raises ``TransportError``
(or anything else): the run then marks the action failed and retries it on the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend


class TransportError(Exception):
    """The message could not be handed over; the action is retried on the next run."""


@dataclass
class Message:
    channel: str
    customer: str
    key: str
    subject: str
    body: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    #: a WhatsApp template approved by Meta: (name, language code, body parameters in order)
    template: tuple[str, str, list[str]] | None = None


def dues_home() -> Path:
    return Path(os.environ.get("DUES_HOME", "var")).resolve()


def outbox_dir() -> Path:
    path = dues_home() / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file_stem(message: Message) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{message.customer}-{message.key.replace(':', '-')}")
    return safe[:150]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    use_ssl: bool


def smtp_settings(url: str | None = None) -> SmtpSettings | None:
    """Parse ``DUES_SMTP_URL`` (None when it is not set)."""
    url = os.environ.get("DUES_SMTP_URL", "") if url is None else url
    if not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise TransportError(f"DUES_SMTP_URL must look like smtp://user:pass@host:port?tls=1, got {parts.scheme}://...")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    ssl = parts.scheme == "smtps" or query.get("ssl", "0") in ("1", "true", "yes")
    return SmtpSettings(host=parts.hostname, port=parts.port or (465 if ssl else 25),
                        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
                        use_tls=query.get("tls", "0") in ("1", "true", "yes"), use_ssl=ssl)


def mail_from() -> str:
    return os.environ.get("DUES_MAIL_FROM", "").strip() or "accounts@localhost"


def thread_message_id(message: Message) -> str:
    """Our Message-ID: names the customer (hex of its code) so a reply's In-Reply-To/References finds it."""
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:16]
    domain = mail_from().rpartition("@")[2].strip("<> ") or "localhost"
    return f"<dues.{message.customer.encode().hex()}.{digest}@{domain}>"


_THREAD_ID = re.compile(r"<dues\.([0-9a-f]+)\.[0-9a-f]{16}@[^>]+>")


def thread_customer_codes(*headers: str) -> list[str]:
    """The customer codes named by our Message-IDs in In-Reply-To/References headers, most recent first."""
    codes = []
    for header in headers:
        for hexcode in reversed(_THREAD_ID.findall(header or "")):
            try:
                code = bytes.fromhex(hexcode).decode()
            except (ValueError, UnicodeDecodeError):
                continue
            if code not in codes:
                codes.append(code)
    return codes


def email_message(message: Message) -> EmailMessage:
    reply_to = [a.strip() for a in os.environ.get("DUES_MAIL_REPLY_TO", "").split(",") if a.strip()]
    email = EmailMessage(subject=message.subject, body=message.body, from_email=mail_from(), to=message.to,
                         cc=message.cc, reply_to=reply_to or None,
                         headers={"X-Dues-Key": message.key, "Message-ID": thread_message_id(message)})
    for name, content, mimetype in message.attachments:
        email.attach(name, content, mimetype)
    return email


class EmailTransport:
    """Django's SMTP backend when ``DUES_SMTP_URL`` is set, else ``.eml`` files in the outbox.

    One SMTP connection is kept open for a whole run (``open``/``close``).
    """

    def __init__(self) -> None:
        self.settings = smtp_settings()
        self.connection = None

    def open(self) -> None:
        if self.settings and self.connection is None:
            s = self.settings
            # a mailer of its own (the alias), configured from DUES_SMTP_URL rather than settings.MAILERS
            self.connection = EmailBackend(alias="dues-dunning", host=s.host, port=s.port, username=s.username or None,
                                           password=s.password or None, use_tls=s.use_tls, use_ssl=s.use_ssl,
                                           timeout=30)
            self.connection.open()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def send(self, message: Message) -> str:
        if not message.to:
            raise TransportError("no e-mail address for the customer")
        if self.settings is None:
            path = outbox_dir() / f"{_file_stem(message)}.eml"
            path.write_bytes(email_message(message).message().as_bytes())
            return f"written to {path}"
        self.open()
        try:
            sent = self.connection.send_messages([email_message(message)])
        except Exception:
            self.close()  # a broken connection is reopened for the next message
            raise
        if sent != 1:
            raise TransportError("the SMTP server did not accept the message")
        return f"sent by SMTP to {', '.join(message.to)}"


class WebhookTransport:
    """SMS and WhatsApp through a generic HTTP webhook (``DUES_SMS_WEBHOOK_URL``) taking JSON."""

    def __init__(self, url: str | None = None, timeout: float = 15) -> None:
        self.url = (os.environ.get("DUES_SMS_WEBHOOK_URL", "") if url is None else url).strip()
        self.timeout = timeout

    def send(self, message: Message) -> str:
        if not message.to:
            raise TransportError("no phone number for the customer")
        payload = {"channel": message.channel, "to": message.to[0], "text": message.body, "customer": message.customer,
                   "key": message.key}
        if not self.url:
            path = outbox_dir() / f"{_file_stem(message)}.{message.channel}.json"
            path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            return f"written to {path}"
        request = urllib.request.Request(self.url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json", "Idempotency-Key": message.key},
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - operator's URL
                status = response.status
        except urllib.error.HTTPError as exc:
            raise TransportError(f"SMS webhook answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransportError(f"SMS webhook unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise TransportError(f"SMS webhook answered {status}")
        return f"{message.channel} to {message.to[0]} accepted by the webhook"


def letters_dir() -> Path:
    path = dues_home() / "letters"
    path.mkdir(parents=True, exist_ok=True)
    return path
