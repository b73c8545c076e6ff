"""Dunning policies from the command line: list, show, create, edit their steps, assign them to segments.

Every change goes through ``dues.collections.services.policies`` (validated, audited before/after)."""

from __future__ import annotations

from decimal import Decimal

import click

from .main import cli
from .output import money_text, out, print_json, table

FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
CHANNELS = ("email", "sms", "whatsapp", "letter", "call_task", "visit_task")


def _policy(obj, name: str):
    from dues.collections.services.policies import policy_default, policy_get

    company = obj.company()
    policy_default(company)  # the standard policy exists from the first look on
    return policy_get(company, name)


def _show(policy, fmt: str) -> None:
    from dues.collections.services.policies import policy_snapshot

    policy.refresh_from_db()
    data = policy_snapshot(policy)
    if fmt == "json":
        print_json(data)
        return
    locale = policy.company.locale
    segments = ", ".join(data["segments"]) or "none"
    out.print(f"{policy.name}{' (default)' if policy.is_default else ''}: nothing is sent below "
              f"{money_text(policy.min_overdue, locale)} overdue; segments: {segments}")
    table("Steps (days from the due date; negative: before it)",
          ["#", "key", "days", "channel", "template", "minimum", "copy to"],
          [[n, s["key"], f"{s['days']:+d}", s["channel"].replace("_", " "), s["template"],
            money_text(Decimal(s["min_overdue"]), locale), s["cc"]]
           for n, s in enumerate(data["steps"], start=1)], right=[0, 2, 5])


@cli.group()
def policy():
    """Dunning policies: the steps (days, channel, template, minimum, copy-to) and the minimum overdue amount."""


@policy.command("list")
@FORMAT
@click.pass_obj
def policy_list_cmd(obj, fmt):
    """Every dunning policy, the default first, with its minimum, steps, segments and customers."""
    from dues.collections.selectors import policy_list
    from dues.collections.services.policies import policy_default

    company = obj.company()
    policy_default(company)
    found = list(policy_list(company))
    if fmt == "json":
        print_json([{"name": p.name, "default": p.is_default, "min_overdue": f"{p.min_overdue:.2f}",
                     "steps": [s.key for s in p.active_steps], "segments": [s.segment for s in p.segments.all()],
                     "customers": p.customer_count} for p in found])
        return
    table("Dunning policies", ["name", "default", "min overdue", "steps", "segments", "own customers"],
          [[p.name, "yes" if p.is_default else "", money_text(p.min_overdue, company.locale),
            " → ".join(f"{s.key} ({s.offset_days:+d})" for s in p.active_steps),
            ", ".join(s.segment for s in p.segments.all()), p.customer_count] for p in found], right=[2, 5])


@policy.command("show")
@click.argument("name")
@FORMAT
@click.pass_obj
def policy_show_cmd(obj, name, fmt):
    """One policy: its minimum, segments and steps in order."""
    _show(_policy(obj, name), fmt)


@policy.command("create")
@click.argument("name")
@click.option("--copy-from", "copy_from", metavar="POLICY", help="start from this policy's steps (default: the standard steps)")
@click.option("--min-overdue", "min_overdue", metavar="AMOUNT", help="nothing is sent below this overdue total (default 500)")
@FORMAT
@click.pass_obj
def policy_create_cmd(obj, name, copy_from, min_overdue, fmt):
    """Create policy NAME (assign it with `dues policy segment` or to a customer)."""
    from dues.collections.services.policies import policy_create

    source = _policy(obj, copy_from) if copy_from else None
    created = policy_create(company=obj.company(), name=name, actor=obj.user, copy_from=source,
                            min_overdue=min_overdue)
    _show(created, fmt)


@policy.command("set")
@click.argument("name")
@click.option("--name", "new_name", metavar="NEW", help="rename the policy")
@click.option("--min-overdue", "min_overdue", metavar="AMOUNT",
              help="nothing is sent to a customer whose overdue total (net of disputes and unapplied credits) is below it")
@click.option("--default", "make_default", is_flag=True, help="make it the company's default policy")
@FORMAT
@click.pass_obj
def policy_set_cmd(obj, name, new_name, min_overdue, make_default, fmt):
    """Change policy NAME: its name, minimum overdue amount, or make it the default."""
    from dues.collections.services.policies import policy_update

    if new_name is None and min_overdue is None and not make_default:
        raise click.UsageError("nothing to change: give --name, --min-overdue or --default")
    _show(policy_update(policy=_policy(obj, name), actor=obj.user, name=new_name, min_overdue=min_overdue,
                        make_default=make_default), fmt)


@policy.group("step")
def step():
    """Add, change or remove a policy's steps."""


def _step_options(fn):
    for option in reversed([
        click.option("--days", metavar="N", help="days from the due date (negative: a reminder before it)"),
        click.option("--channel", type=click.Choice(CHANNELS), help="how it goes out"),
        click.option("--template", metavar="NAME", help="the message template (see `dues` web: Message templates)"),
        click.option("--min-overdue", "min_overdue", metavar="AMOUNT", help="the step's own minimum for its items"),
        click.option("--cc", metavar="LIST", help="copy to: e-mail addresses and @ar_manager, comma-separated"),
    ]):
        fn = option(fn)
    return fn


@step.command("add")
@click.argument("name")
@click.argument("key")
@_step_options
@FORMAT
@click.pass_obj
def step_add_cmd(obj, name, key, days, channel, template, min_overdue, cc, fmt):
    """Add step KEY to policy NAME (--days required; the template defaults to KEY)."""
    from dues.collections.services.policies import step_add

    policy = _policy(obj, name)
    step_add(policy=policy, actor=obj.user, key=key, days=days, channel=channel or "email", template=template,
             min_overdue=min_overdue if min_overdue is not None else "0", cc=cc or "")
    _show(policy, fmt)


@step.command("set")
@click.argument("name")
@click.argument("key")
@_step_options
@FORMAT
@click.pass_obj
def step_set_cmd(obj, name, key, days, channel, template, min_overdue, cc, fmt):
    """Change step KEY of policy NAME (only what is given; --cc "" clears the copy-to list)."""
    from dues.collections.services.policies import step_get, step_update

    policy = _policy(obj, name)
    if all(v is None for v in (days, channel, template, min_overdue, cc)):
        raise click.UsageError("nothing to change: give --days, --channel, --template, --min-overdue or --cc")
    step_update(step=step_get(policy, key), actor=obj.user, days=days, channel=channel, template=template,
                min_overdue=min_overdue, cc=cc)
    _show(policy, fmt)


@step.command("remove")
@click.argument("name")
@click.argument("key")
@FORMAT
@click.pass_obj
def step_remove_cmd(obj, name, key, fmt):
    """Remove step KEY from policy NAME (kept, inactive, when it already sent messages)."""
    from dues.collections.services.policies import step_get, step_remove

    policy = _policy(obj, name)
    outcome = step_remove(step=step_get(policy, key), actor=obj.user)
    if fmt != "json":
        out.print(f"step {key.strip().lower()} {'removed' if outcome == 'deleted' else 'removed (kept inactive: it sent messages)'}")
    _show(policy, fmt)


@policy.command("segment")
@click.argument("segment")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="the segment goes back to the default policy")
@click.pass_obj
def policy_segment_cmd(obj, segment, name, clear):
    """Give every customer of SEGMENT policy NAME (a customer's own policy still comes first)."""
    from dues.collections.services.policies import segment_policy_set

    if bool(name) == bool(clear):
        raise click.UsageError("give a policy NAME, or --clear")
    company = obj.company()
    chosen = _policy(obj, name) if name else None
    segment_policy_set(company=company, segment=segment, policy=chosen, actor=obj.user)
    out.print(f"segment {' '.join(segment.split())}: " + (f"policy {chosen.name}" if chosen else "the default policy"))
