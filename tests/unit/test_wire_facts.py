"""The client and the emulator take CloudAPI's wire facts from one place, smartdc.wire.

The emulator must not lean on the client's api/objects/cli layers (nor they on it), so a
mistake on one side cannot hide the same mistake on the other; both read the names of
filters, fields, headers, sub-resources, role-tag kinds and error codes from smartdc.wire.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest

import smartdc
from smartdc import errors, wire
from smartdc.api import account, images, machines, networks, packages, roles, users, volumes
from smartdc.api import websockets as api_websockets
from smartdc.cli.commands import instance_access
from smartdc.emulator import changefeed, paging
from smartdc.emulator.openapi_components import _PATH_PARAMETERS
from smartdc.emulator.openapi_operations import DOCS
from smartdc.emulator.routes import packages as emulator_packages
from smartdc.emulator.routes import role_tags as emulator_role_tags
from smartdc.emulator.routes import websockets as emulator_websockets
from smartdc.emulator.store import machine_record
from smartdc.emulator.store import users as emulator_users
from smartdc.objects import catalog

SOURCE = Path(smartdc.__file__).parent
CLIENT_PACKAGES = ("api", "objects", "cli")


def _imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    prefixes = tuple(f"smartdc.{name}" for name in forbidden)
    return sorted(
        f"{path.relative_to(SOURCE)}: {module}"
        for path in (SOURCE / package).rglob("*.py")
        for module in _imported_modules(path)
        if module in prefixes or module.startswith(tuple(f"{p}." for p in prefixes))
    )


def test_emulator_imports_nothing_from_the_client_layers() -> None:
    assert _offenders("emulator", CLIENT_PACKAGES) == []


@pytest.mark.parametrize("package", CLIENT_PACKAGES)
def test_client_layers_import_nothing_from_the_emulator(package: str) -> None:
    assert _offenders(package, ("emulator",)) == []


def test_wire_depends_on_nothing_in_smartdc() -> None:
    assert not {m for m in _imported_modules(SOURCE / "wire.py") if m.startswith("smartdc")}


@pytest.mark.parametrize(
    ("module", "name", "fact"),
    [
        (machines, "MACHINE_FILTERS", wire.MACHINE_FILTERS),
        (machines, "CREATE_MACHINE_EXTRAS", wire.CREATE_MACHINE_EXTRAS),
        (machines, "QUERY_LIMIT_HEADER", wire.QUERY_LIMIT_HEADER),
        (machines, "RESOURCE_COUNT_HEADER", wire.RESOURCE_COUNT_HEADER),
        (paging, "QUERY_LIMIT_HEADER", wire.QUERY_LIMIT_HEADER),
        (paging, "RESOURCE_COUNT_HEADER", wire.RESOURCE_COUNT_HEADER),
        (roles, "ROLE_TAG_RESOURCES", wire.ROLE_TAG_RESOURCES),
        (emulator_role_tags, "ROLE_TAG_RESOURCES", wire.ROLE_TAG_RESOURCES),
        (packages, "PACKAGE_FILTERS", wire.PACKAGE_FILTERS),
        (emulator_packages, "PACKAGE_FILTERS", wire.PACKAGE_FILTERS),
        (api_websockets, "CHANGEFEED_SUB_RESOURCES", wire.CHANGEFEED_SUB_RESOURCES),
        (changefeed, "CHANGEFEED_SUB_RESOURCES", wire.CHANGEFEED_SUB_RESOURCES),
        (machine_record, "CHANGEFEED_SUB_RESOURCES", wire.CHANGEFEED_SUB_RESOURCES),
        (images, "IMAGE_FILTERS", wire.IMAGE_FILTERS),
        (volumes, "VOLUME_FILTERS", wire.VOLUME_FILTERS),
        (networks, "NETWORK_FILTERS", wire.NETWORK_FILTERS),
        (account, "ACCOUNT_FIELDS", wire.ACCOUNT_FIELDS),
        (users, "PROFILE_FIELDS", wire.USER_PROFILE_FIELDS),
        (catalog, "HVM_BRANDS", wire.HVM_BRANDS),
        (machine_record, "HVM_BRANDS", wire.HVM_BRANDS),
        (emulator_websockets, "HVM_BRANDS", wire.HVM_BRANDS),
        (instance_access, "VNC_BRANDS", wire.HVM_BRANDS),
    ],
)
def test_both_sides_hold_the_one_copy(module: ModuleType, name: str, fact: object) -> None:
    assert vars(module)[name] is fact


def _query_names(operation: str) -> set[str]:
    return {param.name for param in DOCS[operation].query}


def test_emulator_documents_the_listing_filters_the_client_accepts() -> None:
    assert _query_names("ListMachines") == wire.MACHINE_FILTERS | {"tag"}
    assert [p.name for p in DOCS["ListPackages"].query] == list(wire.PACKAGE_FILTERS)
    assert _query_names("ListVolumes") == wire.VOLUME_FILTERS
    assert _query_names("ListNetworks") == wire.NETWORK_FILTERS
    # ``account`` is passed through to IMGAPI by CloudAPI but filters nothing of its own.
    assert _query_names("ListImages") == wire.IMAGE_FILTERS - {"account"}


def test_emulator_documents_every_role_tag_kind() -> None:
    kinds = _PATH_PARAMETERS["resource_name"]["schema"]["enum"]
    assert kinds == sorted(wire.ROLE_TAG_RESOURCES)


def test_user_profile_fields_agree_everywhere() -> None:
    assert set(users.UserProfile.__annotations__) == set(wire.USER_PROFILE_FIELDS)
    rendered = {*emulator_users._USER_FIELDS, *emulator_users._USER_FIELDS_LATE}
    assert rendered == set(wire.USER_PROFILE_FIELDS)


def _known(code: str) -> bool:
    return code in wire.ERROR_CODES or code.removesuffix("Error") in wire.ERROR_CODES


def test_client_error_classes_use_known_codes() -> None:
    codes = {
        cls.default_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.CloudAPIError) and cls.default_code
    }
    assert codes and sorted(c for c in codes if not _known(c)) == []


def test_emulator_answers_only_known_codes() -> None:
    raised = re.compile(r"EmulatorError\(\s*\d+,\s*\"(\w+)\"")
    codes = {
        code
        for path in (SOURCE / "emulator").rglob("*.py")
        for code in raised.findall(path.read_text())
    }
    assert codes and sorted(c for c in codes if not _known(c)) == []
