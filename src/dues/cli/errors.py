"""Turning domain errors into clear messages and exit codes (1: rejected input, 2: usage)."""

from __future__ import annotations

import click
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)


def run(group: click.Group) -> int:
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError, ProgrammingError
    from rich.markup import escape

    from dues.core.errors import DuesError, ValidationFailed

    try:
        rc = group.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ValidationFailed as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}", markup=True)
        err.print(f"{len(exc.problems)} problem(s); nothing was written.")
        return 1
    except (DuesError, ValueError) as exc:  # ValueError: a date or amount that is not one
        err.print(f"[red]error[/red] {exc}")
        return 1
    except ImproperlyConfigured as exc:  # the settings refused to load: no secret key, hosts missing, ...
        err.print(f"[red]error[/red] {escape(str(exc))}")
        return 1
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            err.print("[red]error[/red] the database is not set up: run `dues init --company NAME` first")
            return 1
        raise
    return rc if isinstance(rc, int) else 0
