"""The secret key that signs sessions, CSRF tokens and portal links: from DUES_SECRET_KEY, else from a file.

There is no built-in key: a key everybody can read in the source would let anybody forge a session. The key
is the environment's DUES_SECRET_KEY when set, else the file ``secret.key`` under DUES_HOME (default ./var),
which ``dues init`` and ``dues demo`` write (readable by its owner only) when it is missing. Without either,
the settings refuse to load with a message naming both ways to give one.

This module is read by the settings, so it must not import Django's settings itself.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENV = "DUES_SECRET_KEY"
FILE_NAME = "secret.key"


class MissingSecretKey(Exception):
    """Neither DUES_SECRET_KEY nor a key file: the message says how to give one."""


def home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DUES_HOME", "var")).resolve()


def key_path(env: Mapping[str, str] = os.environ) -> Path:
    return home(env) / FILE_NAME


def secret_key(env: Mapping[str, str] = os.environ) -> str:
    """The key to sign with: DUES_SECRET_KEY, else the key file's contents; MissingSecretKey when neither."""
    key = env.get(ENV, "").strip()
    if key:
        return key
    path = key_path(env)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    raise MissingSecretKey(
        f"no secret key: set {ENV} in the environment, or run `dues init` (or `dues demo`) to write one to "
        f"{path} (DUES_HOME sets the directory)")


def ensure_key_file(env: Mapping[str, str] = os.environ) -> tuple[Path, bool]:
    """Write a new random key to the key file unless DUES_SECRET_KEY is set or the file exists.

    Returns the file's path and whether it was written now. The file is created readable and writable by its
    owner only (0600).
    """
    path = key_path(env)
    if env.get(ENV, "").strip() or path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    # written in full to a private temporary file, then linked into place: a reader never sees half a key,
    # and when two processes start at once the first link wins and both use its key
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(50) + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return path, False
    finally:
        os.unlink(tmp)
    return path, True
