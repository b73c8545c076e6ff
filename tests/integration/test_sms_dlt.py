"""SMS under India's DLT rules through a pluggable provider: header, entity id, template id, values only in slots."""

from __future__ import annotations

import json

import pytest

from dues.messaging.sms import DltSmsTransport, DltTemplate, load_templates
from dues.messaging.transports import Message, TransportError

REMINDER = DltTemplate("reminder", "1107161234567890123",
                       "Dear {#var#}, Rs {#var#} is overdue on your account with Test Traders. Please pay. -TSTTRD")


class FakeProvider:
    def __init__(self):
        self.sent = []

    def submit(self, **kwargs):
        self.sent.append(kwargs)
        return f"p-{len(self.sent)}"


def sms(**kw) -> Message:
    return Message(channel="sms", customer="C001", key=kw.pop("key", "run:1:C001"), subject="",
                   body=kw.pop("body", ""), to=["+91 98200 11111"], **kw)


def test_values_go_only_into_the_registered_slots(company):
    provider = FakeProvider()
    transport = DltSmsTransport(provider=provider, sender_id="tsttrd", entity_id="1101123456789012345",
                                templates={"reminder": REMINDER})
    note = transport.send(sms(template=("reminder", "en", ["Shree Ganesh", "1,18,000.00"])))
    assert note.endswith("(template reminder, p-1)")
    assert provider.sent == [{"to": "919820011111", "sender": "TSTTRD", "entity_id": "1101123456789012345",
                              "template_id": "1107161234567890123", "text": "Dear Shree Ganesh, Rs 1,18,000.00 is "
                              "overdue on your account with Test Traders. Please pay. -TSTTRD"}]
    # a text of its own must match a registered template, slots and all
    transport.send(sms(body="Dear Kaveri, Rs 500.00 is overdue on your account with Test Traders. Please pay. -TSTTRD"))
    assert len(provider.sent) == 2
    with pytest.raises(TransportError, match="matches no registered DLT template"):
        transport.send(sms(body="Dear Kaveri, pay now or else. -TSTTRD"))
    with pytest.raises(TransportError, match="slot 1 takes one line of at most 30"):
        transport.send(sms(template=("reminder", "en", ["x" * 31, "1.00"])))
    with pytest.raises(TransportError, match="2 slots, 1 values"):
        transport.send(sms(template=("reminder", "en", ["A"])))
    with pytest.raises(TransportError, match="no DLT template 'final'"):
        transport.send(sms(template=("final", "en", [])))
    assert len(provider.sent) == 2
    with pytest.raises(TransportError, match="sender id"):
        DltSmsTransport(provider=provider, sender_id="TST", entity_id="1101123456789012345", templates={})


def test_an_opted_out_number_gets_no_sms_and_bad_template_files_are_named(company, tmp_path):
    from dues.collections.services.whatsapp import opt_out_add

    provider = FakeProvider()
    transport = DltSmsTransport(provider=provider, sender_id="TSTTRD", entity_id="1101123456789012345",
                                templates={"reminder": REMINDER})
    opt_out_add(channel="sms", number="9820011111", actor="test", reason="asked on a call")
    with pytest.raises(TransportError, match="opted out"):
        transport.send(sms(template=("reminder", "en", ["A", "1.00"])))
    assert provider.sent == []
    path = tmp_path / "dlt.json"
    path.write_text(json.dumps({"reminder": {"template_id": "1107161234567890123", "text": REMINDER.text},
                                "final": {"template_id": "TBD", "text": "x"}}))
    with pytest.raises(TransportError, match=r"dlt.json: template final: template_id must be"):
        load_templates(path)
    path.write_text(json.dumps({"reminder": {"template_id": "1107161234567890123", "text": REMINDER.text}}))
    assert load_templates(path)["reminder"].slots == 2
