"""``smartdc instance ssh``, ``vnc`` and ``ip``: part of ``smartdc instance``; see
:mod:`smartdc.cli.commands.instance`.

Behaviour follows node-triton lib/do_instance/do_ssh.js, do_vnc.js and do_ip.js. ``vnc``
carries the console over :mod:`smartdc._websocket`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.wire import HVM_BRANDS

if TYPE_CHECKING:
    import socket

    from smartdc import _websocket as websocket
    from smartdc.api.websockets import WebSocketRequest
    from smartdc.cli.context import Context

#: Runs ``ssh`` in place of this process (``os.execvp``); tests swap it to see the argv.
exec_program: Callable[[str, list[str]], object] = os.execvp

# Instance tags ``ssh`` reads (node-triton do_ssh.js).
TAG_SSH_IP = "tritoncli.ssh.ip"
TAG_SSH_PORT = "tritoncli.ssh.port"
TAG_SSH_PROXY = "tritoncli.ssh.proxy"
TAG_SSH_PROXY_USER = "tritoncli.ssh.proxyuser"

#: Brands with a VNC console (CloudAPI's ConnectMachineVNC refuses the others).
VNC_BRANDS = HVM_BRANDS
#: Seconds one read of the console may wait before local bytes get their turn.
_READ_SLICE = 0.05


# --- ssh ---------------------------------------------------------------------------------------


def _configure_ssh(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [-h] [USER@]INST [SSH-ARGUMENTS]"
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help='Disable SSH proxy support (ignore the "tritoncli.ssh.proxy" tag).',
    )
    # Everything from INST on is ours to read, untouched: options after INST belong to ssh.
    parser.add_argument("words", nargs=argparse.REMAINDER, metavar="[USER@]INST [SSH-ARGUMENTS]")


def _tags(machine: dict[str, Any]) -> dict[str, Any]:
    tags = machine.get("tags")
    return tags if isinstance(tags, dict) else {}


def _ssh_ip(machine: dict[str, Any], missing: str) -> str:
    """The address to reach ``machine`` at: its ``tritoncli.ssh.ip`` tag, else its primary IP."""
    from smartdc.cli.failures import CommandError

    wanted = _tags(machine).get(TAG_SSH_IP)
    if wanted:
        if wanted not in (machine.get("ips") or []):
            raise CommandError(f"IP address {wanted} not attached to the instance")
        return str(wanted)
    primary = machine.get("primaryIp")
    if not primary:
        raise CommandError(missing)
    return str(primary)


def _default_user(context: Context, image_id: Any) -> str:
    """The image's ``default_user`` tag (a convention of Ubuntu certified images), or root."""
    from smartdc.cli import resolve

    if not image_id:
        return "root"
    try:
        image = resolve.image(context.api, str(image_id))
    except resolve.NotFoundError:
        # triton gives up here; an image since deleted should not stop a login
        context.trace(f"image {image_id} not found: logging in as root")
        return "root"
    tags = image.get("tags")
    user = tags.get("default_user") if isinstance(tags, dict) else None
    return str(user) if user else "root"


def ssh_argv(context: Context, options: argparse.Namespace) -> list[str]:
    """The ``ssh`` command line for ``smartdc instance ssh`` (without running it)."""
    from smartdc.cli import resolve
    from smartdc.cli.table import js_string

    if options.passthrough:
        raise UsageError(f'unknown option: "{options.passthrough[0]}"', code="Option")
    words = list(options.words)
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        raise UsageError("missing INST arg")
    target, *ssh_args = words
    user: str | None = None
    if "@" in target:
        user, _, target = target.partition("@")

    machine = resolve.instance(context.api, target)
    ip = _ssh_ip(machine, "IP address not found for instance")

    proxy_ip: str | None = None
    proxy_user: str | None = None
    proxy_tag = _tags(machine).get(TAG_SSH_PROXY)
    if proxy_tag and not options.no_proxy:
        proxy = resolve.instance(context.api, js_string(proxy_tag))
        proxy_ip = _ssh_ip(proxy, "IP address not found for proxy instance")
        proxy_user_tag = _tags(proxy).get(TAG_SSH_PROXY_USER)
        if proxy_user_tag:
            # the proxy's own tag wins, even over USER@ (node-triton do_ssh.js, case 3)
            proxy_user = js_string(proxy_user_tag)
        elif user is not None:
            proxy_user = user
        else:
            proxy_user = _default_user(context, proxy.get("image"))

    if user is None:
        user = _default_user(context, machine.get("image"))
    port_tag = _tags(machine).get(TAG_SSH_PORT)
    port = js_string(port_tag) if port_tag else "22"

    # ControlMaster is turned off by pointing ControlPath at a file that never exists,
    # because multiplexed sessions lose output (node-triton issue #52).
    control_path = os.path.abspath(os.path.join(context.config_dir, "tmp", "nullSshControlPath"))
    argv = ["-o", "ControlMaster=no", "-o", f"ControlPath={control_path}", "-p", port]
    if proxy_ip is not None:
        argv += ["-o", f"ProxyJump={proxy_user}@{proxy_ip}"]
    return [*argv, "-l", user, ip, *ssh_args]


def do_ssh(context: Context, options: argparse.Namespace) -> int | None:
    """SSH to an instance: replaces this process with ``ssh`` (its exit status is ours)."""
    from smartdc.cli.failures import CommandError

    argv = ssh_argv(context, options)
    context.trace(f"running: ssh {' '.join(argv)}")
    context.streams.stdout.flush()
    context.streams.stderr.flush()
    context.close()
    try:
        status = exec_program("ssh", ["ssh", *argv])
    except FileNotFoundError:
        raise CommandError("cannot run ssh: it is not installed or not on PATH") from None
    return status if isinstance(status, int) else None


SSH = Command(
    "ssh",
    "SSH to the primary IP of an instance",
    do_ssh,
    _configure_ssh,
    passthrough=True,
    description=(
        "SSH to the primary IP of an instance\n\n"
        "Where INST is the name, id, or short id of an instance; it must come before any\n"
        "ssh options or arguments, which are passed to ssh. USER is the user to log in as;\n"
        'without it, the image\'s "default_user" tag names it, else "root".\n\n'
        'Instance tags: "tritoncli.ssh.ip" (an IP of the instance to use instead of the\n'
        'primary IP), "tritoncli.ssh.port" (the SSH port), and "tritoncli.ssh.proxy" (the\n'
        "name or id of another instance to jump through with ProxyJump; --no-proxy ignores\n"
        'it). On the proxy instance, "tritoncli.ssh.proxyuser" names the user for the jump.\n\n'
        "ssh runs with ControlMaster disabled, as multiplexed sessions may lose output.\n"
        "To use ControlMaster, run: ssh root@$(smartdc ip INST)"
    ),
)


# --- ip ----------------------------------------------------------------------------------------


def _configure_ip(parser: ArgParser) -> None:
    parser.usage = "%(prog)s INST"
    parser.add_argument(
        "instances", nargs="*", metavar="INST", help="instance name, id or short id"
    )


def do_ip(context: Context, options: argparse.Namespace) -> None:
    """Print the instance's primary IP."""
    from smartdc.cli import resolve
    from smartdc.cli.failures import CommandError

    if not options.instances:
        raise UsageError("missing INST argument")
    if len(options.instances) > 1:
        raise UsageError(f"too many arguments: {' '.join(options.instances)}")
    text = options.instances[0]
    machine = resolve.instance(context.api, text)
    primary = machine.get("primaryIp")
    if not primary:
        raise CommandError(f'primaryIp not found for instance "{text}"')
    context.out(str(primary))


IP = Command(
    "ip",
    "Print the primary IP of the given instance.",
    do_ip,
    _configure_ip,
    description=(
        "Print the primary IP of the given instance.\n\n"
        'Where "INST" is an instance name, id, or short id.\n'
        "For example: ssh root@$(smartdc ip my-instance)"
    ),
)


# --- vnc ---------------------------------------------------------------------------------------


class _PortAction(argparse.Action):
    """``-p PORT``: a positive integer, reported with the option as typed (as dashdash)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        text = str(values)
        problem = None
        if not text.isascii() or not text.isdigit() or int(text) == 0:
            problem = "is not a positive integer"
        elif int(text) > 65535:
            problem = "is not a TCP port (1-65535)"
        if problem:
            raise UsageError(
                f'arg for "{option_string}" {problem}: "{text}"',
                code="Option",
                usage=parser.format_usage().rstrip(),
            )
        setattr(namespace, self.dest, int(text))


def _configure_vnc(parser: ArgParser) -> None:
    parser.usage = "%(prog)s [OPTIONS] INST"
    parser.add_argument(
        "-p",
        "--port",
        action=_PortAction,
        default=0,
        metavar="PORT",
        help="The port the local server listens on. If not given, a random port is used.",
    )
    parser.add_argument(
        "instances", nargs="*", metavar="INST", help="instance name, id or short id"
    )


def do_vnc(context: Context, options: argparse.Namespace) -> None:
    """Serve the instance's VNC console on a local port until the first client leaves."""
    from smartdc.cli import resolve
    from smartdc.cli.failures import CommandError

    if not options.instances:
        raise UsageError("missing INST arg")
    # triton looks the instance up only once a VNC client connects; doing it first reports
    # a wrong name, or an instance without a console, before anyone waits on a port.
    machine = resolve.instance(context.api, options.instances[0])
    if machine.get("brand") not in VNC_BRANDS:
        # the error CloudAPI gives (cloudapi lib/endpoints/vnc.js)
        raise CommandError("Specified machine does not have a VNC console", code="MachineHasNoVNC")
    machine_id = str(machine["id"])
    settings = context.settings
    verify: bool | str = False if settings.insecure else settings.ca_bundle or True
    serve_vnc(
        context,
        lambda: context.api.connect_machine_vnc(machine_id),
        port=options.port,
        verify=verify,
    )


VNC = Command(
    "vnc",
    "Start VNC server for instance.",
    do_vnc,
    _configure_vnc,
    description=(
        "Start VNC server for instance.\n\n"
        "Where INST is an instance name, id, or short id (a bhyve or kvm instance).\n"
        "Point a VNC client at the vnc://127.0.0.1:PORT address printed; the command\n"
        "ends when that client disconnects."
    ),
)


def serve_vnc(
    context: Context,
    connect: Callable[[], WebSocketRequest],
    *,
    port: int = 0,
    verify: bool | str = True,
    host: str = "127.0.0.1",
) -> None:
    """Listen on ``host:port`` (0: any free port), and pipe the first client that connects
    to the WebSocket ``connect()`` describes (called then, so the signature is fresh).

    Only the loopback address is used: unlike triton, which listens on every interface,
    the console is not offered to the network.
    """
    import socket

    from smartdc import _websocket as websocket

    with socket.create_server((host, port)) as listener:
        bound = listener.getsockname()[1]
        context.out(f"Listening on vnc://{host}:{bound}")
        context.streams.stdout.flush()
        conn, _ = listener.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with websocket.connect(connect(), verify=verify) as console:
            try:
                _pipe(conn, console)
            except websocket.WebSocketReset:
                context.out("Connect reset by peer")


def _pipe(conn: socket.socket, console: websocket.WebSocket) -> None:
    """Copy bytes both ways until either side closes, on this one thread.

    ``console.recv`` waits for a whole message, and a ping alone is not one: each read gets
    a short timeout, so local bytes keep flowing meanwhile (a timeout loses nothing).
    """
    import select

    from smartdc._websocket import OP_BINARY, OP_CLOSE

    local, remote = conn.fileno(), console.fileno()
    while True:
        buffered = console.pending()
        ready, _, _ = select.select([local, remote], [], [], 0 if buffered else None)
        if local in ready:
            data = conn.recv(65536)
            if not data:
                console.close()
                return
            console.send_binary(data)
        if not buffered and remote not in ready:
            continue
        console.settimeout(_READ_SLICE)
        try:
            opcode, payload = console.recv()
        except TimeoutError:
            continue
        finally:
            if not console.closed:
                console.settimeout(None)
        if opcode == OP_CLOSE:
            return
        if opcode == OP_BINARY:  # text frames carry nothing for the console
            conn.sendall(payload)


COMMANDS: tuple[Command | Group, ...] = (SSH, VNC, IP)
