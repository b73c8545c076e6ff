"""The WhatsApp Cloud API webhook: the subscription handshake (GET) and signed deliveries (POST)."""

from __future__ import annotations

import json
import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    from dues.collections.services.whatsapp import signature_ok, webhook_process

    if request.method == "GET":
        token = os.environ.get("DUES_WHATSAPP_VERIFY_TOKEN", "")
        if token and request.GET.get("hub.mode") == "subscribe" and request.GET.get("hub.verify_token") == token:
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return JsonResponse({"detail": "verification failed", "errors": []}, status=403)
    if request.method != "POST":
        response = JsonResponse({"detail": f"{request.method} is not allowed here; allowed: GET, POST",
                                 "errors": [{"field": "method", "message": "use one of GET, POST"}]}, status=405)
        response["Allow"] = "GET, POST"
        return response
    if not signature_ok(request.body, request.headers.get("X-Hub-Signature-256", ""),
                        os.environ.get("DUES_WHATSAPP_APP_SECRET", "")):
        return JsonResponse({"detail": "bad or missing X-Hub-Signature-256", "errors": []}, status=403)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return JsonResponse({"detail": f"the body is not JSON: {exc}", "errors": []}, status=400)
    return JsonResponse({"ok": True, **webhook_process(payload)})
