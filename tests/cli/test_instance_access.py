"""``smartdc instance ssh``, ``ip`` and ``vnc`` beside ``triton``'s, on the same emulator.

``ssh`` is compared by the argv each CLI hands to ``ssh``: a stand-in ``ssh`` on PATH prints
its arguments. ``vnc`` is compared through a raw RFB client on the local port each CLI opens,
reaching the emulator's console of a bhyve instance.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from smartdc import _websocket
from smartdc.api import CloudAPI
from smartdc.cli.commands import instance_access
from smartdc.errors import CloudAPIError
from tests.cli.harness import SMARTDC, CliWorld, Result
from tests.emulator.test_triton_websockets import (
    Follower,
    RfbClient,
    connect_local,
    listening_port,
    triton_argv,
)
from tests.interop.node_peers import TRITON

FAKE_SSH = """#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done
echo
exit 7
"""


@pytest.fixture(scope="module")
def fake_ssh_world(world: CliWorld, tmp_path_factory: pytest.TempPathFactory) -> CliWorld:
    """The world with an ``ssh`` on PATH that prints its arguments and exits 7."""
    bin_dir = tmp_path_factory.mktemp("fake-bin")
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH)
    script.chmod(0o755)
    return world.with_env(PATH=f"{bin_dir}{os.pathsep}{world.env.get('PATH', '')}")


@pytest.fixture(scope="module")
def machines(api: CloudAPI) -> dict[str, dict[str, Any]]:
    """web (joyent), jump (its proxy), ubu (from an image tagged default_user=ubuntu), hv
    (bhyve)."""
    base = api.list_images(name="base-64-lts")[-1]
    flex = api.list_images(name="ubuntu-certified-22.04")[-1]
    made: dict[str, dict[str, Any]] = {}
    for name in ("web", "jump", "seed"):
        made[name] = api.create_machine(image=base["id"], package="g4-highcpu-128M", name=name)
    api.stop_machine(made["seed"]["id"])
    _wait(lambda: api.get_machine(made["seed"]["id"])["state"] == "stopped")
    image = api.create_image_from_machine(
        machine=made["seed"]["id"], name="ubu-img", version="1.0", tags={"default_user": "ubuntu"}
    )
    _wait(lambda: api.get_image(image["id"])["state"] == "active")
    made["ubu"] = api.create_machine(image=image["id"], package="g4-highcpu-128M", name="ubu")
    made["hv"] = api.create_machine(
        image=flex["id"], package="b1-flex-1G", name="hv", brand="bhyve"
    )
    del made["seed"]
    for name, machine in made.items():
        _wait(lambda m=machine: api.get_machine(m["id"])["state"] == "running")
        made[name] = api.get_machine(machine["id"])
    return made


def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the emulator did not get there in time")
        time.sleep(0.05)


def _both(world: CliWorld, *args: str) -> tuple[Result, Result]:
    return world.subprocess(*args), world.triton(*args)


def _same_first_error(ours: Result, theirs: Result) -> None:
    assert ours.status == theirs.status
    assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]


# --- ssh ---------------------------------------------------------------------------------------


def test_ssh_execs_ssh_with_the_same_argv_as_triton(
    fake_ssh_world: CliWorld, machines: dict[str, Any]
) -> None:
    # a real exec (the stand-in's exit status comes back) for a few argument shapes
    for args in (
        ["ssh", "web"],
        ["instance", "ssh", "admin@web", "-v", "--", "ls", "-l"],
        ["ssh", "web", "--no-proxy", "-h"],
        ["ssh", "--", "ubu", "uptime"],
        ["ssh", "ubu"],
    ):
        ours, theirs = _both(fake_ssh_world, *args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out) == (7, theirs.out), args
    home = fake_ssh_world.home
    assert fake_ssh_world.subprocess("ssh", "ubu").out == (
        f"[-o][ControlMaster=no][-o][ControlPath={home}/.triton/tmp/nullSshControlPath]"
        f"[-p][22][-l][ubuntu][{machines['ubu']['primaryIp']}]\n"
    )


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []

    def fake_exec(program: str, argv: list[str]) -> int:
        assert program == "ssh"
        runs.append(argv[1:])
        return 0

    monkeypatch.setattr(instance_access, "exec_program", fake_exec)
    return runs


def test_ssh_tags_choose_ip_port_and_proxy_like_triton(
    world: CliWorld,
    fake_ssh_world: CliWorld,
    api: CloudAPI,
    machines: dict[str, Any],
    captured: list[list[str]],
) -> None:
    web, jump = machines["web"]["id"], machines["jump"]["id"]
    jump_private = machines["jump"]["ips"][-1]
    api.add_machine_tags(web, {"tritoncli.ssh.proxy": "jump", "tritoncli.ssh.port": 2222})
    api.add_machine_tags(jump, {"tritoncli.ssh.ip": jump_private})
    try:
        world.ok("ssh", "web", "date")
        world.ok("ssh", "bob@web")
        world.ok("ssh", "--no-proxy", "web")
        # the proxy's proxyuser tag wins over USER@
        api.add_machine_tags(jump, {"tritoncli.ssh.proxyuser": "gate"})
        world.ok("ssh", "bob@web")
        web_ip = machines["web"]["primaryIp"]
        assert [run[4:] for run in captured] == [
            ["-p", "2222", "-o", f"ProxyJump=root@{jump_private}", "-l", "root", web_ip, "date"],
            ["-p", "2222", "-o", f"ProxyJump=bob@{jump_private}", "-l", "bob", web_ip],
            ["-p", "2222", "-l", "root", web_ip],
            ["-p", "2222", "-o", f"ProxyJump=gate@{jump_private}", "-l", "bob", web_ip],
        ]
        # and triton builds the same command line
        triton_argv = fake_ssh_world.triton("ssh", "bob@web").out
        assert triton_argv == "".join(f"[{arg}]" for arg in captured[-1]) + "\n"

        # an ssh.ip tag that is not the instance's own address is refused, as by triton
        api.add_machine_tags(jump, {"tritoncli.ssh.ip": "192.0.2.1"})
        ours, theirs = world.run("ssh", "web"), fake_ssh_world.triton("ssh", "web")
        _same_first_error(ours, theirs)
        assert "IP address 192.0.2.1 not attached to the instance" in ours.err
        assert len(captured) == 4
    finally:
        api.delete_machine_tags(web)
        api.delete_machine_tags(jump)


def test_ssh_usage_errors_match_triton(fake_ssh_world: CliWorld, machines: dict[str, Any]) -> None:
    for args in (["ssh"], ["ssh", "nope"], ["instance", "ssh", "-x", "web"]):
        ours, theirs = fake_ssh_world.run(*args), fake_ssh_world.triton(*args)
        _same_first_error(ours, theirs)
    assert fake_ssh_world.run("ssh", "nope").status == 3


def test_ssh_falls_back_to_root_when_the_image_is_gone(
    world: CliWorld, machines: dict[str, Any], captured: list[list[str]], monkeypatch: Any
) -> None:
    from smartdc.cli import resolve

    def missing(*_: Any, **__: Any) -> Any:
        raise resolve.NotFoundError("image with id x was not found")

    monkeypatch.setattr(resolve, "image", missing)
    world.ok("ssh", "ubu")
    assert captured[-1][-3:] == ["-l", "root", machines["ubu"]["primaryIp"]]


# --- ip ----------------------------------------------------------------------------------------


def test_ip_prints_the_primary_ip_like_triton(world: CliWorld, machines: dict[str, Any]) -> None:
    ours, theirs = world.run("ip", "web"), world.triton("ip", "web")
    assert (ours.status, ours.out) == (theirs.status, theirs.out) == (0, theirs.out)
    assert ours.out == machines["web"]["primaryIp"] + "\n"
    short = machines["web"]["id"][:8]
    assert world.ok("instance", "ip", short).out == ours.out
    for args in (["ip"], ["ip", "web", "jump"], ["ip", "nope"]):
        _same_first_error(world.run(*args), world.triton(*args))


def test_ip_without_a_primary_ip_is_an_error(world: CliWorld, monkeypatch: Any) -> None:
    from smartdc.cli import resolve

    monkeypatch.setattr(resolve, "instance", lambda api, text: {"id": "x", "name": text})
    result = world.run("ip", "lonely")
    assert result.status == 1
    assert result.err == 'smartdc instance ip: error: primaryIp not found for instance "lonely"\n'


# --- vnc ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def _triton_vnc(world: CliWorld, *args: str) -> Follower:
    if not TRITON.exists():
        pytest.skip(f"triton CLI not installed at {TRITON}")
    return Follower(triton_argv("instance", "vnc", *args), world.env)


def _vnc(world: CliWorld, *args: str) -> tuple[Follower, Follower]:
    """``instance vnc ARGS`` with smartdc (on a port chosen here) and triton (any port)."""
    theirs = _triton_vnc(world, *args)
    ours = Follower([str(SMARTDC), "instance", "vnc", "-p", str(_free_port()), *args], world.env)
    return ours, theirs


def test_vnc_serves_the_console_like_triton(world: CliWorld, machines: dict[str, Any]) -> None:
    ours, theirs = _vnc(world, "hv")
    with ours, theirs:
        port = int(ours.argv[4])
        assert listening_port(ours) == port
        screens = []
        for run in (ours, theirs):
            with connect_local(listening_port(run)) as sock:
                rfb = RfbClient(sock)
                init = rfb.handshake()
                screens.append((init, rfb.framebuffer()))
        # the same console through both (the emulator draws the machine's name and state)
        assert screens[0] == screens[1]
        assert screens[0][0].name == "hv"
        result = ours.finish()  # the VNC client left: done
        # triton keeps its port open until interrupted, and drops any later client
        theirs.interrupt()
    assert (result.status, result.out, result.err) == (
        0,
        f"Listening on vnc://127.0.0.1:{port}\n",
        "",
    )


def test_vnc_ends_when_the_console_closes_and_reports_a_stopped_machine(
    world: CliWorld, api: CloudAPI, machines: dict[str, Any]
) -> None:
    hv = machines["hv"]["id"]
    ours, theirs = _vnc(world, "hv")
    try:
        with ours, theirs:
            clients = [connect_local(listening_port(run)) for run in (ours, theirs)]
            for sock in clients:
                RfbClient(sock).handshake()
            api.stop_machine(hv)  # the console goes away with the machine
            for sock in clients:
                _read_to_end(sock)  # the last picture, if any; then both drop the client
            result = ours.finish()
            theirs.interrupt()
            for sock in clients:
                sock.close()
        assert (result.status, result.err) == (0, "")
        _wait(lambda: api.get_machine(hv)["state"] == "stopped")

        # a stopped machine: CloudAPI refuses the upgrade once a VNC client connects
        with pytest.raises(CloudAPIError) as refusal:
            _websocket.connect(api.connect_machine_vnc(hv), timeout=10)
        ours, theirs = _vnc(world, machines["hv"]["id"][:8])
        with ours, theirs:
            for run in (ours, theirs):
                with connect_local(listening_port(run)) as sock:
                    assert _read_to_end(sock) == b""  # no console to show
            mine, triton = ours.finish(), theirs.finish()
        assert mine.status == triton.status == 1
        # CloudAPI's answer, as the library gets it (MachineStopped...)
        assert refusal.value.code is not None and refusal.value.code.startswith("MachineStopped")
        assert mine.err == (
            f"smartdc instance vnc: error ({refusal.value.code}): {refusal.value.message}\n"
        )
        # triton names only the status: "triton instance vnc: error (BadRequestError): ..."
        assert triton.err.startswith("triton instance vnc: error (BadRequestError)")
    finally:
        api.start_machine(hv)
        _wait(lambda: api.get_machine(hv)["state"] == "running")


def _read_to_end(sock: socket.socket) -> bytes:
    """What the server still sends, until it closes the connection (10 s at most)."""
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_vnc_refuses_instances_without_a_console(world: CliWorld, machines: dict[str, Any]) -> None:
    result = world.run("instance", "vnc", "web")
    assert result.status == 1
    assert result.out == ""
    assert result.err == (
        "smartdc instance vnc: error (MachineHasNoVNC): Specified machine does not have a VNC "
        "console\n"
    )
    # triton listens first and fails once a VNC client connects; the same exit status
    theirs = _triton_vnc(world, "web")
    with theirs, connect_local(listening_port(theirs)):
        assert theirs.finish().status == result.status


def test_vnc_usage_errors_match_triton(world: CliWorld) -> None:
    for args in (
        ["instance", "vnc"],
        ["instance", "vnc", "-p", "0", "hv"],
        ["instance", "vnc", "--port=x1", "hv"],
    ):
        _same_first_error(world.run(*args), world.triton(*args))
    assert world.run("instance", "vnc", "nope").status == 3
