"""Datacenter feature switches: the CloudAPI configuration values that turn behaviour on.

Each switch has CloudAPI's default (every one of them starts off, as in a fresh Triton
install). An environment variable ``SMARTDC_EMULATOR_<NAME>`` (``true``/``false``, ``1``/``0``)
changes the default for the whole process; :func:`set_enabled` changes it for one database
(a reset of the emulator's state forgets that). Every datacenter of a region shares them.

=============================  =========================================================
switch                         CloudAPI setting, and what it allows
=============================  =========================================================
``automount_volumes``          ``experimental_cloudapi_automount_nfs_shared_volumes``:
                               CreateMachine's ``volumes`` (NFS volumes mounted at boot)
``bhyve_snapshots``            ``experimental_cloudapi_bhyve_snapshots``: snapshots of
                               bhyve machines
``delegate_dataset``           ``experimental_cloudapi_delegate_dataset``: CreateMachine's
                               ``delegate_dataset``
=============================  =========================================================
"""

from __future__ import annotations

import os

from smartdc.emulator.db import Database, register_schema

register_schema(
    """
    CREATE TABLE IF NOT EXISTS features (
        name TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL
    );
    """
)

AUTOMOUNT_VOLUMES = "automount_volumes"
BHYVE_SNAPSHOTS = "bhyve_snapshots"
DELEGATE_DATASET = "delegate_dataset"
#: Every switch and its default.
DEFAULTS: dict[str, bool] = {
    AUTOMOUNT_VOLUMES: False,
    BHYVE_SNAPSHOTS: False,
    DELEGATE_DATASET: False,
}
_ENV_PREFIX = "SMARTDC_EMULATOR_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _check(name: str) -> None:
    if name not in DEFAULTS:
        raise ValueError(f"unknown feature {name!r}")


def default(name: str) -> bool:
    """The process-wide setting: the environment variable if it is set, else CloudAPI's."""
    _check(name)
    text = os.environ.get(_ENV_PREFIX + name.upper(), "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return DEFAULTS[name]


def enabled(db: Database, name: str) -> bool:
    """Whether the switch is on for this database."""
    _check(name)
    row = db.one("SELECT enabled FROM features WHERE name = ?", (name,))
    return default(name) if row is None else bool(row["enabled"])


def set_enabled(db: Database, name: str, value: bool | None) -> None:
    """Turn the switch on or off for this database (``None``: back to the default)."""
    _check(name)
    if value is None:
        db.execute("DELETE FROM features WHERE name = ?", (name,))
    else:
        db.execute(
            "INSERT OR REPLACE INTO features (name, enabled) VALUES (?, ?)", (name, int(value))
        )
