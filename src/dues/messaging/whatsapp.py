"""WhatsApp through Meta's WhatsApp Business Cloud API (the Graph API).

Settings, read when a transport is made:

- ``DUES_WHATSAPP_PHONE_NUMBER_ID`` and ``DUES_WHATSAPP_TOKEN`` (a system user's access token): required;
- ``DUES_WHATSAPP_GRAPH_URL`` (default ``https://graph.facebook.com``) and ``DUES_WHATSAPP_API_VERSION``
  (default ``v21.0``);
- ``DUES_WHATSAPP_COUNTRY_CODE`` (default ``91``): put before a ten-digit number;
- for the webhook: ``DUES_WHATSAPP_VERIFY_TOKEN`` (the subscription handshake) and
  ``DUES_WHATSAPP_APP_SECRET`` (the ``X-Hub-Signature-256`` HMAC key).

A message with a ``template`` (name, language, body parameters) goes as that approved template; one with
a PDF attachment uploads it (``/media``) and sends it as a document with the body as caption; otherwise
as text (which WhatsApp delivers only within 24 hours of the customer's last message). A number that
opted out (replied STOP, or marked) is refused before anything is sent, and the refusal is audited.
Each accepted message is recorded (``MessageDelivery``) with its ``wamid`` so the webhook's statuses
(sent, delivered, read, failed) update it.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from .transports import Message, TransportError


@dataclass(frozen=True)
class CloudSettings:
    base_url: str
    version: str
    phone_number_id: str
    token: str
    country_code: str


def cloud_settings() -> CloudSettings:
    phone_id = os.environ.get("DUES_WHATSAPP_PHONE_NUMBER_ID", "").strip()
    token = os.environ.get("DUES_WHATSAPP_TOKEN", "").strip()
    if not phone_id or not token:
        raise TransportError("WhatsApp Cloud API needs DUES_WHATSAPP_PHONE_NUMBER_ID and DUES_WHATSAPP_TOKEN")
    return CloudSettings(base_url=os.environ.get("DUES_WHATSAPP_GRAPH_URL", "").strip().rstrip("/")
                         or "https://graph.facebook.com",
                         version=os.environ.get("DUES_WHATSAPP_API_VERSION", "").strip() or "v21.0",
                         phone_number_id=phone_id, token=token,
                         country_code=os.environ.get("DUES_WHATSAPP_COUNTRY_CODE", "").strip() or "91")


def last_ten(number: str) -> str:
    return re.sub(r"\D", "", number or "")[-10:]


def wa_number(number: str, country_code: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    if len(digits) == 10:
        digits = country_code + digits
    if len(digits) < 11:
        raise TransportError(f"{number!r} is not a WhatsApp number (country code and number)")
    return digits


class WhatsAppCloudTransport:
    def __init__(self, settings: CloudSettings | None = None, timeout: float = 15) -> None:
        self.settings = settings or cloud_settings()
        self.timeout = timeout

    def _url(self, tail: str) -> str:
        s = self.settings
        return f"{s.base_url}/{s.version}/{s.phone_number_id}/{tail}"

    def _post(self, url: str, data: bytes, content_type: str) -> dict:
        request = urllib.request.Request(url, data=data, method="POST", headers={
            "Authorization": f"Bearer {self.settings.token}", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read() or b"{}").get("error", {}).get("message", "")
            except ValueError:
                detail = ""
            raise TransportError(f"WhatsApp Cloud API answered {exc.code}" + (f": {detail}" if detail else "")) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TransportError(f"WhatsApp Cloud API unreachable: {exc}") from exc

    def upload(self, filename: str, content: bytes, mimetype: str) -> str:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\nwhatsapp\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n{mimetype}\r\n'.encode(),
            (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             f"Content-Type: {mimetype}\r\n\r\n").encode() + content + b"\r\n",
            f"--{boundary}--\r\n".encode()]
        answer = self._post(self._url("media"), b"".join(parts), f"multipart/form-data; boundary={boundary}")
        if not answer.get("id"):
            raise TransportError("WhatsApp Cloud API gave no media id for the document")
        return answer["id"]

    def payload(self, message: Message, to: str) -> dict:
        body: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        pdfs = [a for a in message.attachments if a[2] == "application/pdf"]
        if message.template:  # a PDF goes as the template's document header
            name, language, params = message.template
            components = [{"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in params]}]
            if pdfs:
                filename, content, mimetype = pdfs[0]
                components.insert(0, {"type": "header", "parameters": [{"type": "document", "document": {
                    "id": self.upload(filename, content, mimetype), "filename": filename}}]})
            body |= {"type": "template",
                     "template": {"name": name, "language": {"code": language}, "components": components}}
        elif pdfs:
            filename, content, mimetype = pdfs[0]
            body |= {"type": "document", "document": {"id": self.upload(filename, content, mimetype),
                                                      "filename": filename, "caption": message.body[:1024]}}
        else:
            body |= {"type": "text", "text": {"body": message.body[:4096], "preview_url": False}}
        return body

    def send(self, message: Message) -> str:
        from dues.collections.services.whatsapp import delivery_record, refuse_if_opted_out

        if not message.to:
            raise TransportError("no WhatsApp number for the customer")
        to = wa_number(message.to[0], self.settings.country_code)
        refuse_if_opted_out(channel="whatsapp", number=to, customer_code=message.customer, key=message.key)
        answer = self._post(self._url("messages"), json.dumps(self.payload(message, to)).encode(),
                            "application/json")
        ids = [m.get("id") for m in answer.get("messages", []) if m.get("id")]
        if not ids:
            raise TransportError("WhatsApp Cloud API accepted nothing (no message id)")
        delivery_record(channel="whatsapp", provider_id=ids[0], key=message.key, customer_code=message.customer, to=to)
        return f"whatsapp to {to} accepted ({ids[0]})"


def whatsapp_transport() -> WhatsAppCloudTransport | None:
    """The Cloud API transport when ``DUES_WHATSAPP_PHONE_NUMBER_ID`` is set, else None (the webhook is used)."""
    if not os.environ.get("DUES_WHATSAPP_PHONE_NUMBER_ID", "").strip():
        return None
    return WhatsAppCloudTransport()
