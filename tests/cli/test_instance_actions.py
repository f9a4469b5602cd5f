"""``smartdc instance delete/start/stop/reboot/resize/rename/wait/audit/fwrules`` and the
firewall and deletion-protection switches, beside ``triton``'s on the same emulator."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import threading
import time
from collections.abc import Sequence

import pytest

from smartdc.api import CloudAPI
from smartdc.errors import MachineGoneError
from tests.cli.harness import SMARTDC, CliWorld, Result
from tests.interop.node_peers import TRITON

IMAGE = "base-64-lts"
PACKAGE = "g4-highcpu-128M"

# "(<uuid>, 61ms)" / "(<uuid> 1s20ms)": how long a -w action took
_DURATION = re.compile(r"\b\d+(?:ms|s|m|h|d|w)(?:\d+(?:ms|s|m|h|d))?\)")


def _same_lines(text: str) -> list[str]:
    """Output lines in a stable order (several instances finish in any order), with
    durations blanked."""
    return sorted(_DURATION.sub("DUR)", line) for line in text.splitlines())


def _errors(result: Result, prog: str = "smartdc") -> list[str]:
    return sorted(line.replace(prog, "triton", 1) for line in result.err.splitlines())


def _create(api: CloudAPI, name: str) -> str:
    image = next(img for img in api.list_images(name=IMAGE))
    machine = api.create_machine(image=image["id"], package=PACKAGE, name=name)
    _wait_state(api, machine["id"], "running")
    return str(machine["id"])


def _wait_state(api: CloudAPI, uuid: str, state: str) -> None:
    deadline = time.monotonic() + 20
    while api.get_machine(uuid)["state"] != state:
        assert time.monotonic() < deadline, f"{uuid} never became {state}"
        time.sleep(0.05)


def _running(api: CloudAPI, *uuids: str) -> None:
    for uuid in uuids:
        if api.get_machine(uuid)["state"] != "running":
            api.start_machine(uuid)
            _wait_state(api, uuid, "running")


@pytest.fixture(scope="module")
def machines(api: CloudAPI) -> dict[str, str]:
    """Two running instances, web1 and web2: name -> id."""
    return {name: _create(api, name) for name in ("web1", "web2")}


# --- start, stop, delete -----------------------------------------------------------------------


def test_stop_and_start_print_one_line_per_instance_like_triton(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    web1, web2 = machines["web1"], machines["web2"]
    ours = world.ok("stop", "web1", "web2")
    assert _same_lines(ours.out) == [
        f"Stop (async) instance web1 ({web1})",
        f"Stop (async) instance web2 ({web2})",
    ]
    _wait_state(api, web1, "stopped")
    _wait_state(api, web2, "stopped")
    theirs = world.triton("stop", "web1", "web2")
    assert (theirs.status, _same_lines(theirs.out)) == (0, _same_lines(ours.out))

    # -w: the verb, the id and how long it took; a UUID argument is printed alone.
    ours = world.ok("instance", "start", "-w", "web1", web2)
    assert _same_lines(ours.out) == sorted(
        [f"Start instance web1 ({web1}, DUR)", f"Start instance {web2} (DUR)"]
    )
    assert ours.err == ""  # in a pipe, no progress is drawn
    assert {api.get_machine(u)["state"] for u in (web1, web2)} == {"running"}
    theirs = world.triton("instance", "start", "-w", "web1", web2)
    assert _same_lines(theirs.out) == _same_lines(ours.out)


def test_a_failing_instance_is_reported_and_the_others_still_act(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    ours = world.run("stop", "-w", "web1", "nope", "web2")
    assert ours.status == 1
    assert _same_lines(ours.out) == [
        f"Stop instance web1 ({machines['web1']}, DUR)",
        f"Stop instance web2 ({machines['web2']}, DUR)",
    ]
    assert ours.err.splitlines() == [
        'error: no instance with name or short id "nope" was found',
        "smartdc instance stop: error: command failure",
    ]
    theirs = world.triton("stop", "-w", "web1", "nope", "web2")
    assert theirs.status == 1
    assert _errors(ours) == sorted(theirs.err.splitlines())
    # Even alone, an unknown instance is a "command failure" (exit 1, not 3), as in triton.
    assert world.run("start", "nope").status == world.triton("start", "nope").status == 1
    _running(api, *machines.values())


def test_start_from_a_snapshot(world: CliWorld, api: CloudAPI, machines: dict[str, str]) -> None:
    web2 = machines["web2"]
    api.create_machine_snapshot(web2, "snap1")
    deadline = time.monotonic() + 20
    while api.get_machine_snapshot(web2, "snap1")["state"] != "created":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    world.ok("stop", "-w", "web2")
    ours = world.ok("start", "-w", "--snapshot", "snap1", "web2")
    assert _same_lines(ours.out) == [f"Start instance web2 ({web2}, DUR)"]
    assert api.get_machine(web2)["state"] == "running"
    assert api.machine_audit(web2)[0]["action"] == "rollback_snapshot"

    ours, theirs = (
        run("start", "--snapshot", "nosnap", "web2") for run in (world.run, world.triton)
    )
    assert ours.status == theirs.status == 1
    assert _errors(ours) == sorted(theirs.err.splitlines())


def test_delete_force_and_wait(world: CliWorld, api: CloudAPI) -> None:
    uuid = _create(api, "gone1")
    ours = world.ok("rm", "-f", "-w", "gone1")
    assert _same_lines(ours.out) == [f"Delete instance gone1 ({uuid}, DUR)"]
    with pytest.raises(MachineGoneError):
        api.get_machine(uuid)
    # Deleting it again fails, saying why (triton prints an empty message).
    again = world.run("delete", "-f", uuid)
    assert again.status == world.triton("delete", "-f", uuid).status == 1
    assert again.err.splitlines() == [
        f"error: instance {uuid} was deleted",
        "smartdc instance delete: error: command failure",
    ]


def test_delete_async_line_matches_triton(world: CliWorld, api: CloudAPI) -> None:
    mine, theirs_id = _create(api, "gone2"), _create(api, "gone3")
    ours, theirs = (
        world.ok("delete", "--force", "gone2"),
        world.triton("delete", "--force", "gone3"),
    )
    assert ours.out == f"Delete (async) instance gone2 ({mine})\n"
    assert theirs.out == f"Delete (async) instance gone3 ({theirs_id})\n"


def test_delete_refuses_without_a_terminal_to_ask_on(world: CliWorld, api: CloudAPI) -> None:
    uuid = _create(api, "kept1")
    # A new session has no controlling terminal, as under cron or CI.
    proc = subprocess.run(
        [str(SMARTDC), "delete", "kept1"],
        env=world.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "use -f/--force" in proc.stderr
    assert api.get_machine(uuid)["state"] == "running"
    api.delete_machine(uuid)


def _on_terminal(
    argv: Sequence[str], env: dict[str, str], answers: Sequence[str]
) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, typing each answer (a key at a time) after each
    ``[y/n]`` prompt; its exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(argv[0], list(argv), env)
    shown = b""

    def read() -> bool:
        nonlocal shown
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            return False
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            return False
        shown += chunk
        return bool(chunk)

    for answer in answers:
        mark = len(shown)
        while b"[y/n] " not in shown[mark:] and read():
            pass
        time.sleep(0.3)  # triton switches the terminal to raw mode after the prompt
        for key in answer.encode() + b"\r":
            os.write(fd, bytes([key]))
            time.sleep(0.02)
    while read():
        pass
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode()


def test_delete_asks_on_the_terminal_like_triton(world: CliWorld, api: CloudAPI) -> None:
    if not TRITON.exists():
        pytest.skip("triton CLI not installed")
    uuid = _create(api, "asked1")
    ours = _on_terminal([str(SMARTDC), "delete", "asked1"], world.env, ["maybe", "n"])
    theirs = _on_terminal([str(TRITON), "delete", "asked1"], world.env, ["maybe", "n"])
    assert ours == theirs
    status, shown = ours
    assert status == 0
    assert shown.splitlines() == [
        f"Delete instance {uuid}? [y/n] maybe",
        'Please enter "y", "yes", "n" or "no".',
        f"Delete instance {uuid}? [y/n] n",
        "Aborting",
    ]
    assert api.get_machine(uuid)["state"] == "running"

    status, shown = _on_terminal([str(SMARTDC), "delete", "-w", "asked1"], world.env, ["yes"])
    assert status == 0
    assert re.search(rf"Delete instance asked1 \({uuid}, \d+", shown)
    # On a terminal the wait shows what it waits for.
    assert "instance asked1 to be deleted" in shown
    with pytest.raises(MachineGoneError):
        api.get_machine(uuid)


# --- reboot ------------------------------------------------------------------------------------


def test_reboot_reports_each_instance_like_triton(
    world: CliWorld, machines: dict[str, str]
) -> None:
    ours, theirs = (run("reboot", "web1", "nope", "nope2") for run in (world.run, world.triton))
    assert ours.status == theirs.status == 1
    # The "Rebooting" lines come first, in argument order; the failures in any order.
    assert (
        ours.out.splitlines()[:3]
        == theirs.out.splitlines()[:3]
        == [
            "Rebooting instance web1",
            "Rebooting instance nope",
            "Rebooting instance nope2",
        ]
    )
    assert _same_lines(ours.out) == _same_lines(theirs.out)
    assert (
        ours.err.splitlines()[0]
        == "smartdc instance reboot: error (MultiError): multiple (2) errors"
    )
    assert _errors(ours) == sorted(theirs.err.splitlines())
    # One failure is reported as itself, with its own exit status.
    ours, theirs = world.run("reboot", "nope"), world.triton("reboot", "nope")
    assert ours.status == theirs.status == 3
    assert ours.err.replace("smartdc", "triton") == theirs.err


def test_reboot_wait_ends_with_the_new_audit_record(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    before = sum(e["action"] == "reboot" for e in api.machine_audit(machines["web1"]))
    ours = world.ok("reboot", "-w", "web1")
    assert ours.out == "Rebooting instance web1\nRebooted instance web1\n"
    assert sum(e["action"] == "reboot" for e in api.machine_audit(machines["web1"])) == before + 1


# --- resize, rename ----------------------------------------------------------------------------


def test_resize_and_rename_like_triton(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    web2 = machines["web2"]
    ours = world.ok("instance", "resize", "-w", "web2", "g4-highcpu-256M")
    assert ours.out == (
        'Resizing instance web2 to "g4-highcpu-256M"\nResized instance web2 to "g4-highcpu-256M"\n'
    )
    assert api.get_machine(web2)["package"] == "g4-highcpu-256M"
    theirs = world.triton("instance", "resize", "-w", "web2", PACKAGE)
    assert theirs.out == ours.out.replace("g4-highcpu-256M", PACKAGE)

    ours = world.ok("instance", "rename", "-w", "web2", "web2b")
    assert ours.out == 'Renaming instance web2 to "web2b"\nRenamed instance web2 to "web2b"\n'
    assert api.get_machine(web2)["name"] == "web2b"
    theirs = world.triton("instance", "rename", "-w", "web2b", "web2")
    assert theirs.out == 'Renaming instance web2b to "web2"\nRenamed instance web2b to "web2"\n'

    for args in (
        ["rename", "web2", "web1"],
        ["resize", "web2", "nopkg"],
        ["resize", "nope", PACKAGE],
    ):
        ours, theirs = world.run("instance", *args), world.triton("instance", *args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
        assert ours.err.replace("smartdc", "triton") == theirs.err, args
    # triton ignores a third argument; here it is an error.
    assert world.run("instance", "resize", "web2", PACKAGE, "extra").status == 1
    assert api.get_machine(web2)["package"] == PACKAGE


# --- wait --------------------------------------------------------------------------------------


def test_wait_for_instances_already_there(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    _running(api, *machines.values())
    ours, theirs = (
        run("instance", "wait", "web1", machines["web2"][:8]) for run in (world.run, world.triton)
    )
    assert ours.status == theirs.status == 0

    def counted(result: Result) -> tuple[list[str], list[str]]:
        pairs = [line.split(": ", 1) for line in result.out.splitlines()]
        return [count for count, _ in pairs], sorted(text for _, text in pairs)

    assert counted(ours) == counted(theirs)
    assert counted(ours) == (
        ["1/2", "2/2"],
        [
            "Instance web1 (web1) already running",
            f"Instance web2 ({machines['web2'][:8]}) already running",
        ],
    )
    ours, theirs = (run("inst", "wait", "nope", "web1") for run in (world.run, world.triton))
    assert ours.status == theirs.status == 1
    assert ours.err.replace("smartdc", "triton") == theirs.err


def test_wait_for_a_state_change(world: CliWorld, api: CloudAPI, machines: dict[str, str]) -> None:
    web1 = machines["web1"]
    _running(api, web1)
    stopper = threading.Timer(1.0, lambda: api.stop_machine(web1))
    stopper.start()
    try:
        ours = world.ok("inst", "wait", "-s", " stopped , failed", "web1")
    finally:
        stopper.join()
    assert ours.out.splitlines() == [
        f"Waiting for instance web1 ({web1}) to enter state (states: stopped, failed)",
        f"1/1: Instance web1 ({web1}) moved to state stopped",
    ]
    _running(api, web1)


# --- audit, fwrules ----------------------------------------------------------------------------


def test_audit_like_triton(world: CliWorld, machines: dict[str, str]) -> None:
    for args in (
        ["web1"],
        ["-l", "web1", "-s", "-time"],
        ["-H", "-o", "time,caller.type,action", "web1"],
    ):
        ours, theirs = world.run("inst", "audit", *args), world.triton("inst", "audit", *args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    ours = world.ok("inst", "audit", "-j", machines["web1"])
    assert ours.ndjson() == world.triton("inst", "audit", "-j", "web1").ndjson()
    assert {(e["id"], e["shortid"]) for e in ours.ndjson()} == {
        (machines["web1"], machines["web1"][:8])
    }
    for args in ([], ["web1", "web2"], ["nope"]):
        ours, theirs = world.run("inst", "audit", *args), world.triton("inst", "audit", *args)
        assert ours.status == theirs.status, args
        assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]


def test_fwrules_lists_the_rules_that_apply(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    web1 = machines["web1"]
    every = api.create_firewall_rule("FROM any TO all vms ALLOW tcp PORT 22", enabled=True)
    mine = api.create_firewall_rule(
        f"FROM any TO vm {web1} ALLOW tcp PORT 80", enabled=True, description="web"
    )
    for args in (
        ["web1"],
        ["-l", "web1", "-s", "-rule"],
        ["web1", "-o", "ID,Rule,LOG", "-H"],
        ["web2"],
    ):
        ours, theirs = world.run("inst", "fwrules", *args), world.triton("inst", "fwrules", *args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    assert world.ok("inst", "fwrule", "list", "web1").out == world.ok("inst", "fwrules", "web1").out
    rules = world.ok("inst", "fwrules", "-j", "web1").ndjson()
    assert rules == world.triton("inst", "fwrules", "-j", "web1").ndjson()
    assert {rule["id"] for rule in rules} == {every["id"], mine["id"]}
    assert [r["id"] for r in world.ok("inst", "fwrules", "-j", "web2").ndjson()] == [every["id"]]
    for args in ([], ["web1", "web2"], ["nope"]):
        ours, theirs = world.run("inst", "fwrules", *args), world.triton("inst", "fwrules", *args)
        assert ours.status == theirs.status, args
        # triton names the command "instance fwrule list" here
        assert (
            ours.err.split(": error")[1].splitlines()[0]
            == theirs.err.split(": error")[1].splitlines()[0]
        )
    # `instance fwrule` is hidden, as in triton.
    assert "fwrule " not in world.ok("instance", "help").out


# --- firewall and deletion protection ----------------------------------------------------------


def test_firewall_switches_like_triton(
    world: CliWorld, api: CloudAPI, machines: dict[str, str]
) -> None:
    ours = world.ok("inst", "enable-firewall", "-w", "web1", machines["web2"][:8])
    assert _same_lines(ours.out) == sorted(
        [
            'Enabling firewall for instance "web1"',
            'Enabled firewall for instance "web1"',
            f'Enabling firewall for instance "{machines["web2"][:8]}"',
            f'Enabled firewall for instance "{machines["web2"][:8]}"',
        ]
    )
    assert all(api.get_machine(u)["firewall_enabled"] for u in machines.values())
    ours = world.ok("inst", "disable-firewall", "-w", "web1", "web2")
    assert not any(api.get_machine(u)["firewall_enabled"] for u in machines.values())
    theirs = world.triton("inst", "disable-firewall", "-w", "web1", "web2")
    assert _same_lines(ours.out) == _same_lines(theirs.out)
    ours, theirs = (
        run("inst", "enable-firewall", "web1", "nope", "nope2") for run in (world.run, world.triton)
    )
    assert ours.status == theirs.status == 1
    assert ours.err.replace("smartdc", "triton") == theirs.err
    assert ours.out == theirs.out == 'Enabling firewall for instance "web1"\n'
    world.ok("inst", "disable-firewall", "-w", "web1")


def test_deletion_protection(world: CliWorld, api: CloudAPI, machines: dict[str, str]) -> None:
    ours = world.ok("inst", "enable-deletion-protection", "-w", "web1")
    assert ours.out == (
        'Enabling deletion protection for instance "web1"\n'
        'Enabled deletion protection for instance "web1"\n'
    )
    assert api.get_machine(machines["web1"])["deletion_protection"] is True
    ours, theirs = world.run("rm", "-f", "web1"), world.triton("rm", "-f", "web1")
    assert ours.status == theirs.status == 1
    assert ours.err.replace("smartdc", "triton") == theirs.err
    assert api.get_machine(machines["web1"])["state"] == "running"
    ours = world.ok("inst", "disable-deletion-protection", "-w", "web1")
    assert ours.out == (
        'Disabling deletion protection for instance "web1"\n'
        'Disabled deletion protection for instance "web1"\n'
    )
    assert api.get_machine(machines["web1"])["deletion_protection"] is False
    theirs = world.triton("inst", "disable-deletion-protection", "web1")
    assert theirs.out == world.ok("inst", "disable-deletion-protection", "web1").out


# --- usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["start"],
        ["stop"],
        ["delete"],
        ["reboot"],
        ["wait"],
        ["resize"],
        ["resize", "web1"],
        ["rename", "web1"],
        ["enable-firewall"],
        ["disable-deletion-protection"],
        ["start", "--bogus", "web1"],
        ["disable-firewall", "--wait-timeout", "3", "web1"],
        ["stop", "--wait-timeout", "abc", "web1"],
    ],
)
def test_usage_errors_exit_1_like_triton(world: CliWorld, args: list[str]) -> None:
    ours, theirs = world.run("instance", *args), world.triton("instance", *args)
    assert ours.status == theirs.status == 1
    ours_code = ours.err.splitlines()[0].split(": error")[1].split(")")[0]
    theirs_code = theirs.err.splitlines()[0].split(": error")[1].split(")")[0]
    assert ours_code == theirs_code
    if "Usage" in ours_code:
        assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]
