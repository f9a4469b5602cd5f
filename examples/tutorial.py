"""py-smartdc's tutorial, step by step, against any CloudAPI (a local emulator by default).

Run it as::

    python examples/tutorial.py --url http://127.0.0.1:8080 \\
        --key-id /demo/keys/demo_key --secret ./demo_key

Options may also come from the environment: ``SDC_URL``, ``SDC_KEY_ID`` (a full keyId, or a
key name/fingerprint with ``SDC_ACCOUNT``), ``SDC_KEY_FILE``, ``SDC_DATACENTER`` (the second
datacenter). Every step prints what it did; the first unmet expectation stops the tutorial,
deletes what it created, and exits with status 1.

The original tutorial's thread-pool finale shuts down *every* machine of the account; this
one only touches the machines it created (tagged with this run's id), so it is safe to point
at a real account. On a fresh account the closing check is the original ``num_machines() ==
0``.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Sequence
from multiprocessing.dummy import Pool
from operator import methodcaller
from typing import Any

from smartdc import DEBUG_CONFIG, DataCenter, Machine, SmartDCError

FIRST_LOCATION = "us-sw-1"


class StepFailed(Exception):
    """An expectation of the tutorial did not hold."""


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show(label: str, value: object) -> None:
    print(f"   {label}: {value}", flush=True)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)
    print(f"   ok: {what}", flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default=env("SDC_URL"), help="CloudAPI URL of the first DC")
    parser.add_argument("--key-id", default=env("SDC_KEY_ID"), help="/<account>/keys/<key>")
    parser.add_argument("--account", default=env("SDC_ACCOUNT"), help="with a bare --key-id")
    parser.add_argument(
        "--secret", default=env("SDC_KEY_FILE", "~/.ssh/id_rsa"), help="private key file"
    )
    parser.add_argument("--agent", action="store_true", help="sign with ssh-agent instead")
    parser.add_argument(
        "--location",
        default=FIRST_LOCATION,
        help=f"name of the first DC (default {FIRST_LOCATION})",
    )
    parser.add_argument(
        "--datacenter",
        default=env("SDC_DATACENTER", "us-east-1"),
        help="the DC to switch to (default us-east-1)",
    )
    parser.add_argument("--package", default="Small 1GB", help="package of the test machine")
    parser.add_argument("--dataset", default="sdc:sdc:smartos64:", help="image reference")
    parser.add_argument("--machines", type=int, default=3, help="machines for the pool part")
    parser.add_argument("--quiet", action="store_true", help="no per-request debug lines")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per wait")
    args = parser.parse_args(argv)
    if not args.key_id:
        parser.error("--key-id (or SDC_KEY_ID) is required")
    if not args.key_id.startswith("/"):
        if not args.account:
            parser.error("a bare --key-id needs --account (or SDC_ACCOUNT)")
        args.key_id = f"/{args.account}/keys/{args.key_id}"
    if args.machines < 1:
        parser.error("--machines must be at least 1")
    return args


def connect(args: argparse.Namespace) -> DataCenter:
    step("Connect: DataCenter(location=..., key_id=..., secret=..., config=DEBUG_CONFIG)")
    known = {args.location: args.url} if args.url else None
    sdc = DataCenter(
        location=args.location,
        key_id=args.key_id,
        secret=None if args.agent else args.secret,
        allow_agent=args.agent,
        config=None if args.quiet else DEBUG_CONFIG,
        known_locations=known,
    )
    show("datacenter", repr(sdc))
    return sdc


def run(args: argparse.Namespace, created: list[Machine]) -> None:
    run_tag = {"smartdc-tutorial": uuid.uuid4().hex[:12]}
    sdc = connect(args)

    step("sdc.keys()")
    keys = sdc.keys()
    for key in keys:
        show("key", f"{key['name']}  {key['fingerprint']}")
    expect(len(keys) >= 1, "the account has at least one SSH key")

    step(f"east = sdc.datacenter({args.datacenter!r})")
    east = sdc.datacenter(args.datacenter)
    show("datacenter", repr(east))
    expect(east.base_url != sdc.base_url, "the second datacenter has its own endpoint")
    baseline = east.num_machines()
    show("machines already there", baseline)

    step("east.default_package()")
    package = east.default_package()
    show("default package", package and f"{package['name']} ({package['memory']} MiB)")
    expect(package is not None, "the datacenter offers a package")

    step(f"latest64 = east.dataset({args.dataset!r})")
    latest64 = east.dataset(args.dataset)
    show("image", f"{latest64['name']}@{latest64['version']} ({latest64['id']})")

    step(f"east.create_machine(name='test-machine', dataset=latest64, package={args.package!r})")
    test_machine = east.create_machine(
        name="test-machine", dataset=latest64, package=args.package, tags=run_tag
    )
    created.append(test_machine)
    show("machine", repr(test_machine))
    expect(test_machine.state == "provisioning", "a new machine starts out provisioning")

    step("test_machine.poll_while('provisioning', interval=1)")
    test_machine.poll_while("provisioning", interval=1, timeout=args.timeout)
    show("machine", repr(test_machine))
    expect(test_machine.state == "running", "the machine is running")

    step("test_machine == east.machines(name='test-machine')[0]")
    found = east.machines(name="test-machine")
    expect(bool(found) and test_machine == found[0], "the listed machine equals the created one")

    step("test_machine.public_ips")
    show("public_ips", test_machine.public_ips)
    show("private_ips", test_machine.private_ips)
    expect(len(test_machine.public_ips) >= 1, "the machine has a public IP")

    step("test_machine.stop(); test_machine.poll_until('stopped'); test_machine.delete()")
    test_machine.stop()
    test_machine.poll_until("stopped", interval=1, timeout=args.timeout)
    show("machine", repr(test_machine))
    expect(test_machine.state == "stopped", "the machine stopped")
    test_machine.delete()
    test_machine.poll_until("deleted", interval=1, timeout=args.timeout)
    expect(test_machine.state == "deleted", "the machine is deleted")

    step(f"Create {args.machines} machines, then shut them all down with a thread pool")
    for n in range(args.machines):
        machine = east.create_machine(
            name=f"pool-{n}", dataset=latest64, package=args.package, tags=run_tag
        )
        created.append(machine)
        show("created", repr(machine))
    all_machines = east.machines(tags=run_tag)
    expect(len(all_machines) == args.machines, f"{args.machines} tagged machines are listed")
    simultaneous = Pool(len(all_machines))
    try:
        pool_map(simultaneous, "poll_while", all_machines, "provisioning", 1, args.timeout)
        pool_map(simultaneous, "stop", all_machines)
        pool_map(simultaneous, "poll_until", all_machines, "stopped", 1, args.timeout)
        states = simultaneous.map(methodcaller("status"), all_machines)
        show("states", states)
        expect(states == ["stopped"] * len(all_machines), "every machine is stopped")
        pool_map(simultaneous, "delete", all_machines)
        pool_map(simultaneous, "poll_until", all_machines, "deleted", 1, args.timeout)
    finally:
        simultaneous.close()
        simultaneous.join()
    remaining = east.num_machines()
    show("east.num_machines()", remaining)
    expect(remaining == baseline, f"east.num_machines() == {baseline}")
    sdc.close()
    east.close()


def pool_map(pool: Any, method: str, machines: list[Machine], *args: Any) -> None:
    print(
        f"   simultaneous.map(methodcaller({method!r}{''.join(f', {a!r}' for a in args)}), "
        "all_machines)",
        flush=True,
    )
    pool.map(methodcaller(method, *args), machines)


def clean_up(created: list[Machine]) -> None:
    """Best effort: delete whatever the tutorial made and did not delete."""
    for machine in created:
        try:
            if machine.status() != "deleted":
                machine.delete()
                print(f"   cleaned up {machine.name} ({machine.id})", file=sys.stderr)
        except SmartDCError as exc:
            print(f"   could not clean up {machine.id}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    created: list[Machine] = []
    try:
        run(args, created)
    except (StepFailed, SmartDCError) as exc:
        kind = "expectation failed" if isinstance(exc, StepFailed) else type(exc).__name__
        print(f"\ntutorial: {kind}: {exc}", file=sys.stderr, flush=True)
        clean_up(created)
        return 1
    print("\ntutorial: every step did what the original tutorial says it does", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
