"""SMS in India under TRAI's DLT rules, through a pluggable provider adapter.

Every commercial SMS in India must carry a registered header (sender id), the sender's DLT entity id and
the DLT template id of a template registered with the operator, and its text must be that template with
only the ``{#var#}`` slots filled. ``DltSmsTransport`` enforces this before anything leaves: a message
names its template (``Message.template = (name, language, values)``), or its text must match one of the
registered templates; values go only into the slots (at most 30 characters each, no line breaks), and a
mismatch is refused naming the template and the slot. The provider (the aggregator's API) is an adapter
with one method, ``submit``; ``HttpJsonProvider`` posts JSON to a URL, and others can be plugged in.

Settings: ``DUES_DLT_TEMPLATES`` (a JSON file ``{"name": {"template_id": "...", "text": "... {#var#} ..."}}``),
``DUES_DLT_ENTITY_ID``, ``DUES_SMS_SENDER_ID`` (the 6-letter header), ``DUES_SMS_PROVIDER_URL`` and
``DUES_SMS_PROVIDER_KEY`` for ``HttpJsonProvider``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .transports import Message, TransportError

SLOT = "{#var#}"
MAX_VAR = 30


@dataclass(frozen=True)
class DltTemplate:
    name: str
    template_id: str
    text: str

    @property
    def slots(self) -> int:
        return self.text.count(SLOT)

    def render(self, values: list[str]) -> str:
        if len(values) != self.slots:
            raise TransportError(f"DLT template {self.name}: {self.slots} slots, {len(values)} values given")
        out = self.text
        for n, value in enumerate(values, start=1):
            value = str(value)
            if len(value) > MAX_VAR or "\n" in value or "\r" in value:
                raise TransportError(f"DLT template {self.name}: slot {n} takes one line of at most {MAX_VAR} "
                                     f"characters, got {value[:40]!r}")
            out = out.replace(SLOT, value, 1)
        return out

    def matches(self, text: str) -> bool:
        parts = [re.escape(p) for p in self.text.split(SLOT)]
        return re.fullmatch(f"[^\\n]{{0,{MAX_VAR}}}".join(parts), text) is not None


def load_templates(path: str | Path) -> dict[str, DltTemplate]:
    """The registered templates from a JSON file; a bad entry is named (file, template, field)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TransportError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise TransportError(f"{path}: must be an object of templates by name")
    found = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise TransportError(f"{path}: template {name}: must be an object")
        template_id, text = str(entry.get("template_id", "")).strip(), entry.get("text", "")
        if not template_id.isdigit():
            raise TransportError(f"{path}: template {name}: template_id must be the DLT template id (digits)")
        if not isinstance(text, str) or not text.strip():
            raise TransportError(f"{path}: template {name}: text is missing")
        found[name] = DltTemplate(name, template_id, text)
    return found


class SmsProvider(Protocol):
    def submit(self, *, to: str, text: str, sender: str, entity_id: str, template_id: str) -> str:
        """Hand one SMS to the provider; answer its message id (raise ``TransportError`` on refusal)."""


class HttpJsonProvider:
    """A generic aggregator API: POST JSON ``{sender, to, message, dlt_entity_id, dlt_template_id}``."""

    def __init__(self, url: str, api_key: str = "", timeout: float = 15) -> None:
        self.url, self.api_key, self.timeout = url, api_key, timeout

    def submit(self, *, to: str, text: str, sender: str, entity_id: str, template_id: str) -> str:
        body = json.dumps({"sender": sender, "to": to, "message": text, "dlt_entity_id": entity_id,
                           "dlt_template_id": template_id}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise TransportError(f"SMS provider answered {exc.code}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TransportError(f"SMS provider unreachable: {exc}") from exc
        return str(answer.get("id") or answer.get("message_id") or "")


class DltSmsTransport:
    def __init__(self, *, provider: SmsProvider, sender_id: str, entity_id: str,
                 templates: dict[str, DltTemplate], country_code: str = "91") -> None:
        if not re.fullmatch(r"[A-Za-z]{6}|\d{6}", sender_id or ""):
            raise TransportError(f"the SMS sender id (header) must be 6 letters (or 6 digits), got {sender_id!r}")
        if not re.fullmatch(r"\d{12,25}", entity_id or ""):
            raise TransportError("the DLT entity id must be the registered number (digits)")
        self.provider, self.sender_id, self.entity_id = provider, sender_id.upper(), entity_id
        self.templates, self.country_code = templates, country_code

    def _template_and_text(self, message: Message) -> tuple[DltTemplate, str]:
        if message.template:
            name, _language, values = message.template
            template = self.templates.get(name)
            if template is None:
                raise TransportError(f"no DLT template {name!r} registered; not sent")
            return template, template.render(list(values))
        for template in self.templates.values():
            if template.matches(message.body):
                return template, message.body
        raise TransportError("the SMS text matches no registered DLT template; not sent")

    def send(self, message: Message) -> str:
        from dues.collections.services.whatsapp import refuse_if_opted_out

        if not message.to:
            raise TransportError("no phone number for the customer")
        digits = re.sub(r"\D", "", message.to[0])
        to = self.country_code + digits if len(digits) == 10 else digits
        template, text = self._template_and_text(message)
        refuse_if_opted_out(channel="sms", number=to, customer_code=message.customer, key=message.key)
        provider_id = self.provider.submit(to=to, text=text, sender=self.sender_id, entity_id=self.entity_id,
                                           template_id=template.template_id)
        return f"sms to {to} accepted (template {template.name}{', ' + provider_id if provider_id else ''})"


def sms_transport() -> DltSmsTransport | None:
    """The DLT transport when ``DUES_DLT_TEMPLATES`` is set (provider: ``DUES_SMS_PROVIDER_URL``), else None."""
    path = os.environ.get("DUES_DLT_TEMPLATES", "").strip()
    if not path:
        return None
    url = os.environ.get("DUES_SMS_PROVIDER_URL", "").strip()
    if not url:
        raise TransportError("DUES_DLT_TEMPLATES is set but DUES_SMS_PROVIDER_URL is not")
    return DltSmsTransport(provider=HttpJsonProvider(url, os.environ.get("DUES_SMS_PROVIDER_KEY", "").strip()),
                           sender_id=os.environ.get("DUES_SMS_SENDER_ID", "").strip(),
                           entity_id=os.environ.get("DUES_DLT_ENTITY_ID", "").strip(),
                           templates=load_templates(path))
