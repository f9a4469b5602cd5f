"""The operation list shipped in the package, and the coverage report built from the routes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from smartdc.emulator.context import Reply, Route, cloudapi_route
from smartdc.emulator.coverage import coverage, main, render_markdown
from smartdc.emulator.routes import all_routes
from smartdc.operations import OPERATIONS, operation

#: Operations the emulator serves: every one.
IMPLEMENTED_COUNT = 126
#: Routes beyond CloudAPI's operation list: the access-key updates node-triton 7.18 sends,
#: and the migration estimate sdc-cloudapi lib/migrations.js serves.
UNLISTED = ("UpdateAccessKey", "UpdateUserAccessKey", "MigrateMachineEstimate")
#: The six paths CloudAPI serves SetRoleTags on (sdc-cloudapi lib/resources.js).
ROLE_TAG_PATHS = {
    "/:login",
    "/:login/:resource_name",
    "/:login/users/:user/:resource_name",
    "/:login/:resource_name/:resource_id",
    "/:login/machines/:id",
    "/:login/users/:user/keys/:resource_id",
}


def _placeholders_as_colons(path: str) -> str:
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r":\1", path)


def test_the_operation_list_has_126_distinct_operations() -> None:
    assert len(OPERATIONS) == 126
    assert len({op.name for op in OPERATIONS}) == 126
    assert {op.method for op in OPERATIONS} == {"GET", "POST", "PUT", "DELETE"}
    assert all(op.path.startswith("/") for op in OPERATIONS)


def test_operation_lookup() -> None:
    start = operation("StartMachine")
    assert (start.method, start.route_path, start.action) == (
        "POST",
        "/:login/machines/:id",
        "start",
    )
    assert operation("ListMachines").action is None
    with pytest.raises(KeyError, match="StartVM is not a CloudAPI operation"):
        operation("StartVM")


def test_every_route_is_a_cloudapi_operation_with_its_method_and_path() -> None:
    role_tag_paths = set()
    for route in all_routes():
        if route.operation in UNLISTED:
            continue
        listed = operation(route.operation)
        assert route.method == listed.method, route.operation
        path = _placeholders_as_colons(route.path)
        if route.variant is not None:
            role_tag_paths.add(path)
            continue
        assert path == listed.route_path.replace("/:account", "/:login", 1), route.operation
        assert route.query_action == listed.action, route.operation
    assert role_tag_paths == ROLE_TAG_PATHS


def test_report_agrees_with_the_route_table() -> None:
    report = coverage()
    served = {route.operation for route in all_routes()} - set(UNLISTED)
    assert {op.name for op in report.implemented} == served
    assert len(report.implemented) == IMPLEMENTED_COUNT
    assert len(report.implemented) + len(report.missing) == 126
    assert tuple(route.operation for route in report.unlisted) == UNLISTED
    assert report.summary == f"{IMPLEMENTED_COUNT} of 126 implemented"
    assert operation("StopMachine") in report.implemented
    assert operation("CreateUser") in report.implemented
    assert operation("SetRoleTags") in report.implemented
    assert operation("GetChangefeed") in report.implemented
    assert report.missing == ()


def test_routes_outside_the_list_are_reported_separately() -> None:
    def handler(call: object) -> Reply:
        return Reply(204)

    routes = [
        cloudapi_route("ListKeys", handler, summary="keys"),
        Route("PurgeEverything", "DELETE", "/{login}/everything", handler),
    ]
    report = coverage(routes)
    assert [op.name for op in report.implemented] == ["ListKeys"]
    assert [r.operation for r in report.unlisted] == ["PurgeEverything"]
    text = render_markdown(report)
    assert "1 of 126 implemented" in text
    assert "- PurgeEverything (DELETE `/{login}/everything`)" in text


def test_markdown_table_has_a_row_per_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| operation | method | path | emulator |"
    rows = [line for line in lines[2:] if line.startswith("| ")]
    assert len(rows) == 126
    assert "| CreateMachine | POST | `/:login/machines` | yes |" in rows
    assert "| StartMachine | POST | `/:login/machines/:id?action=start` | yes |" in rows
    assert "| ListFirewallRules | GET | `/:login/fwrules` | yes |" in rows
    assert "| ListUsers | GET | `/:account/users` | yes |" in rows
    assert "| GetChangefeed | GET | `/:login/changefeed` | yes |" in rows
    assert sum(row.endswith("| yes |") for row in rows) == IMPLEMENTED_COUNT
    assert f"{IMPLEMENTED_COUNT} of 126 implemented" in lines
    assert "- UpdateAccessKey (POST `/{login}/accesskeys/{accesskeyid}`)" in lines


def test_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smartdc.emulator.coverage"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"\n{IMPLEMENTED_COUNT} of 126 implemented\n" in done.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "smartdc.emulator.coverage", "--json"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "takes no arguments" in refused.stderr
