"""The saved filters and the bulk-action bar of the customer list and the worklist (``{% load dues_lists %}``)."""

from __future__ import annotations

from django import template

from dues.users.permissions import can

from ..saved_filters import clean_query, saved_filters

register = template.Library()


@register.inclusion_tag("web/_saved_filters.html", takes_context=True)
def saved_filter_bar(context, list_name: str):
    request = context["request"]
    company = context.get("company")
    found = saved_filters(company=company, user=request.user, list_name=list_name) if company else []
    return {"filters": found, "list_name": list_name, "query": clean_query(list_name, request.GET.urlencode()),
            "path": request.path, "next": request.get_full_path(), "user": request.user,
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("web/_bulk_bar.html", takes_context=True)
def bulk_bar(context, list_name: str):
    from dues.customers.models import Customer

    request = context["request"]
    user = request.user
    company = context.get("company")
    collectors = sorted(set(Customer.objects.filter(company=company).exclude(collector="")
                            .values_list("collector", flat=True).distinct()), key=str.lower) if company else []
    return {"list_name": list_name, "next": request.get_full_path(), "collectors": collectors,
            "can_assign": can(user, "customers.change"), "can_act": can(user, "collections.act"),
            "can_export": can(user, "reports.view"), "csrf_token": context.get("csrf_token")}
