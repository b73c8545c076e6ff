"""WhatsApp Business Cloud API: templates and documents against a fake Graph API on loopback, the webhook's
handshake and signature, statuses into the delivery log, STOP honoured, inbound messages read for suggestions."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dues.messaging.transports import Message, TransportError

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
SECRET = "app-secret-1"


@pytest.fixture
def graph(monkeypatch):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"path": self.path, "auth": self.headers["Authorization"],
                         "type": self.headers["Content-Type"], "body": body})
            if self.path.endswith("/media"):
                answer = {"id": "media-77"}
            elif b'"to": "919999999999"' in body:
                self.send_response(400)
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": "template not approved"}}).encode())
                return
            else:
                answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{len(seen)}"}]}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DUES_WHATSAPP_GRAPH_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("DUES_WHATSAPP_API_VERSION", "v99.0")
    monkeypatch.setenv("DUES_WHATSAPP_PHONE_NUMBER_ID", "1234567890")
    monkeypatch.setenv("DUES_WHATSAPP_TOKEN", "tok-abc")
    monkeypatch.setenv("DUES_WHATSAPP_VERIFY_TOKEN", "verify-me")
    monkeypatch.setenv("DUES_WHATSAPP_APP_SECRET", SECRET)
    yield seen
    server.shutdown()
    server.server_close()


def signed(client, payload: dict, secret: str = SECRET):
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/api/whatsapp/webhook", data=body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=sig)


def change(**value) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", **value}}]}]}


def test_template_and_document_sent_statuses_stored_stop_honoured_and_replies_read(graph, company, make_customer,
                                                                                   client):
    from dues.audit.models import AuditRecord
    from dues.collections.models import MessageDelivery, MessagingOptOut, ReplySuggestion
    from dues.customers.models import Contact
    from dues.messaging.whatsapp import WhatsAppCloudTransport

    c1 = make_customer("C001", name="Shree Ganesh Traders", phone="+91 98200 11111")
    Contact.objects.create(customer=c1, name="Anil", whatsapp="+91 98200 22222")
    transport = WhatsAppCloudTransport()
    note = transport.send(Message(channel="whatsapp", customer="C001", key="run:1:C001", subject="", body="",
                                  to=["98200 22222"], template=("payment_reminder", "en", ["Anil", "1,18,000.00"])))
    assert "wamid.1" in note
    sent = json.loads(graph[0]["body"])
    assert graph[0]["path"] == "/v99.0/1234567890/messages" and graph[0]["auth"] == "Bearer tok-abc"
    assert sent["to"] == "919820022222" and sent["template"]["name"] == "payment_reminder"
    assert sent["template"]["language"] == {"code": "en"}
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Anil", "1,18,000.00"]
    transport.send(Message(channel="whatsapp", customer="C001", key="stmt:C001", subject="", body="Your statement",
                           to=["+919820022222"], attachments=[("SOA-C001.pdf", b"%PDF-1.4 x", "application/pdf")]))
    assert graph[1]["path"].endswith("/media") and graph[1]["type"].startswith("multipart/form-data")
    assert b"%PDF-1.4 x" in graph[1]["body"] and b'name="messaging_product"' in graph[1]["body"]
    document = json.loads(graph[2]["body"])["document"]
    assert document == {"id": "media-77", "filename": "SOA-C001.pdf", "caption": "Your statement"}
    with pytest.raises(TransportError, match="template not approved"):
        transport.send(Message(channel="whatsapp", customer="C001", key="k3", subject="", body="hi",
                               to=["919999999999"]))

    # the webhook: handshake, signature, statuses (never backwards)
    ok = client.get("/api/whatsapp/webhook", {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                              "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    assert client.get("/api/whatsapp/webhook", {"hub.mode": "subscribe", "hub.verify_token": "no",
                                                "hub.challenge": "x"}).status_code == 403
    statuses = change(statuses=[{"id": "wamid.1", "status": "read", "timestamp": "1"},
                                {"id": "wamid.1", "status": "delivered", "timestamp": "0"},
                                {"id": "wamid.3", "status": "failed", "errors": [{"code": 131026,
                                                                                 "title": "Message undeliverable"}]}])
    assert signed(client, statuses, secret="wrong").status_code == 403
    assert MessageDelivery.objects.get(provider_id="wamid.1").status == "sent"
    assert signed(client, statuses).json()["statuses"] == 2
    assert MessageDelivery.objects.get(provider_id="wamid.1").status == "read"
    failed = MessageDelivery.objects.get(provider_id="wamid.3")
    assert failed.status == "failed" and failed.error == "Message undeliverable" and failed.key == "stmt:C001"

    # an inbound message is read for suggestions; STOP opts the number out and the next send is refused, audited
    r = signed(client, change(messages=[{"from": "919820022222", "id": "wamid.in1", "type": "text",
                                         "text": {"body": "kal tak 50k bhej denge"}}]))
    assert r.json()["messages"] == 1
    suggestion = ReplySuggestion.objects.get()
    assert suggestion.customer == c1 and suggestion.kind == "promise" and suggestion.reply.channel == "whatsapp"
    signed(client, change(messages=[{"from": "919820022222", "id": "wamid.in2", "type": "text",
                                     "text": {"body": "STOP"}}]))
    assert MessagingOptOut.objects.filter(channel="whatsapp", address="9820022222").exists()
    before = len(graph)
    with pytest.raises(TransportError, match="opted out"):
        transport.send(Message(channel="whatsapp", customer="C001", key="run:2:C001", subject="", body="x",
                               to=["9820022222"], template=("payment_reminder", "en", ["Anil", "1.00"])))
    assert len(graph) == before
    assert AuditRecord.objects.filter(object_type="message", action="refuse", object_id="run:2:C001").exists()
    assert client.put("/api/whatsapp/webhook").status_code == 405
