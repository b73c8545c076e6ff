"""``{% forecast_card company %}``: the latest stored cash-collection forecast (one query; the forecast is
computed by ``dues forecast`` or the scheduler's ``recompute_forecast``, never on a page load)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()
# the card's one query is cached, so a cached dashboard stays at its queries; saving a forecast clears it
# (in the process that saved it; other processes see the new forecast within this time)
CACHE_SECONDS = 300


@register.inclusion_tag("web/_forecast_card.html")
def forecast_card(company) -> dict:
    from django.core.cache import cache

    from dues.risk.models import ForecastSnapshot

    key = f"dues:forecast-card:{company.pk}"
    snap = cache.get(key, "miss")
    if snap == "miss":
        snap = ForecastSnapshot.objects.filter(company=company).order_by("-computed_at").first()
        cache.set(key, snap, CACHE_SECONDS)
    if snap is None:
        return {"snapshot": None}
    weeks = snap.weeks
    pick = [w for w in weeks if w["week"] in (1, 4, 13)]
    rows = [{"label": f"by {w['end']}", "expected": Decimal(w["cumulative_expected"]),
             "low": Decimal(w["cumulative_low"]), "high": Decimal(w["cumulative_high"])} for w in pick]
    return {"snapshot": snap, "rows": rows}
