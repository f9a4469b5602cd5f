"""``smartdc instance tag`` and ``instance metadata`` beside ``triton``'s, on one emulator.

Changes are compared on twin instances (same starting tags and metadata): smartdc changes
one, triton the other, and what each prints must be the same.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.cli.config import GlobalOptions
from smartdc.cli.context import Context, Streams
from smartdc.cli.prompt import confirm
from smartdc.cli.values import typed_value
from tests.cli.harness import CliWorld, Result

TAGS = {"role": "web", "n": 3}
METADATA = {"foo": "bar"}


def _create(api: CloudAPI, name: str) -> str:
    image = api.list_images(name="base-64-lts")[-1]
    machine = api.create_machine(
        name=name, image=image["id"], package="g4-highcpu-128M", tags=TAGS, metadata=METADATA
    )
    return str(machine["id"])


@pytest.fixture(scope="module")
def api(world: CliWorld) -> CloudAPI:
    return CloudAPI(world.url, "test", key_file=world.key.path)


@pytest.fixture(scope="module")
def twins(api: CloudAPI) -> dict[str, str]:
    """Instances ``ours``, ``theirs`` and ``fixed`` (never changed), by name."""
    return {name: _create(api, name) for name in ("ours", "theirs", "fixed")}


def _same(ours: Result, theirs: Result) -> None:
    """Same exit status, output and first error line (the twins' names swapped)."""
    theirs = Result(
        theirs.status, theirs.out.replace("theirs", "ours"), theirs.err.replace("theirs", "ours")
    )
    assert (ours.status, ours.out) == (theirs.status, theirs.out)
    assert _first_error(ours) == _first_error(theirs)


def _first_error(result: Result) -> str:
    lines = result.err.splitlines()
    return lines[0].replace("smartdc ", "triton ") if lines else ""


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", 1),
        (" true ", True),
        ("false", False),
        ("", 0),
        (" 2 ", 2),
        ("0x10", 16),
        ("1e3", 1000),
        ("1.5", 1.5),
        ("x", "x"),
        (" yes ", " yes "),
        ("1_000", "1_000"),
        ("9007199254740992", 2**53),  # exact in JavaScript, so sent without a fraction
    ],
)
def test_values_are_typed_as_javascript_number_would(raw: str, value: Any) -> None:
    converted = typed_value(raw)
    assert converted == value and type(converted) is type(value)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "answer", "asked"), [("y\n", True, 1), ("maybe\nno\n", False, 2), ("", False, 1)]
)
def test_confirm_asks_until_answered(typed: str, answer: bool, asked: int) -> None:
    stderr = io.StringIO()
    streams = Streams(stdin=_Terminal(typed), stdout=io.StringIO(), stderr=stderr)
    context = Context("smartdc test", GlobalOptions(), streams=streams)
    assert confirm(context, 'Delete tag "x"? [y/n] ') is answer
    assert stderr.getvalue().count('Delete tag "x"? [y/n] ') == asked
    assert ('Please enter "y", "yes", "n" or "no".' in stderr.getvalue()) is (asked == 2)


# --- tag list / get ----------------------------------------------------------------------------


def test_tag_list_and_get_print_what_triton_prints(world: CliWorld, twins: dict[str, str]) -> None:
    uuid = twins["fixed"]
    for args in (
        ["instance", "tag", "list", "fixed"],
        ["instance", "tags", uuid, "-j"],
        ["instance", "tag", "get", "fixed", "n"],
        ["instance", "tag", "get", uuid, "role", "-j"],
        ["instance", "tag", "get", uuid, "n", "-j"],  # GetMachineTag gives "" for numbers
    ):
        _same(world.run(*args), world.triton(*args))
    assert world.ok("instance", "tag", "ls", "fixed", "-j").out == '{"n":3,"role":"web"}\n'
    assert world.ok("instance", "tag", "get", "fixed", "n", "-j").out == "3\n"
    assert world.ok("instance", "tag", "get", uuid, "role").out == "web\n"


def test_unknown_tag_and_instance_fail_like_triton(world: CliWorld, twins: dict[str, str]) -> None:
    uuid = twins["fixed"]
    expected = {
        ("get", "fixed", "nope"): 3,  # looked up by smartdc itself
        ("get", uuid, "nope"): 1,  # CloudAPI's 404, passed through
        ("list", "nosuch"): 3,
        ("delete", "fixed", "a", "--all"): 1,
    }
    for args, status in expected.items():
        ours = world.run("instance", "tag", *args)
        theirs = world.triton("instance", "tag", *args)
        assert ours.status == theirs.status == status, args
        assert _first_error(ours) == _first_error(theirs), args
        assert ours.out == theirs.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "fixed"], "error (Usage): incorrect number of args"),
        (["list", "fixed", "extra"], "error (Usage): incorrect number of args"),
        (["set", "fixed", "novalue"], "error (Usage): invalid KEY=VALUE tag argument: novalue"),
        (["replace-all", "fixed"], "error (Usage): no tags were provided"),
        (["delete"], "error (Usage): incorrect number of args"),
        (["get", "fixed", "n", "--bogus"], 'error (Option): unknown option: "--bogus"'),
    ],
)
def test_bad_tag_arguments_are_usage_errors(
    world: CliWorld, twins: dict[str, str], args: list[str], message: str
) -> None:
    result = world.run("instance", "tag", *args)
    assert (result.status, result.out) == (1, "")
    assert result.err.splitlines()[0].endswith(message)


# --- tag set / replace-all / delete ------------------------------------------------------------


def test_tag_set_types_values_and_warns_like_triton(world: CliWorld, twins: dict[str, str]) -> None:
    pairs = ["a=1", "b=true", "c=x", "d=", " e = 2 ", "f=0x10", "k=a=b", "a=2"]
    ours = world.run("instance", "tag", "set", "ours", *pairs)
    theirs = world.triton("instance", "tag", "set", "theirs", *pairs)
    _same(ours, theirs)
    assert ours.err == theirs.err == 'warning: tag "a=2" replaces earlier value for "a"\n'
    assert ours.json() == {**TAGS, "a": 2, "b": True, "c": "x", "d": 0, "e": 2, "f": 16, "k": "a=b"}
    # nothing to set: triton quietly does nothing
    _same(world.run("instance", "tag", "set", "ours"), world.triton("inst", "tag", "set", "theirs"))


def test_tags_from_files_arguments_win(
    world: CliWorld, twins: dict[str, str], tmp_path: Path
) -> None:
    as_json = tmp_path / "tags.json"
    as_json.write_text('{"g": 1, "h": "x"}')
    as_lines = tmp_path / "tags.txt"
    as_lines.write_text("g=2\r\n\n  h = yes \nz=true\n")
    args = ["-f", str(as_json), "-f", str(as_lines), "z=9", "-j"]
    ours = world.run("instance", "tag", "set", "ours", *args)
    theirs = world.triton("instance", "tag", "set", "theirs", *args)
    _same(ours, theirs)
    assert ours.err == theirs.err
    assert "(from " in ours.err
    assert {k: ours.json()[k] for k in "ghz"} == {"g": 2, "h": " yes ", "z": 9}


def test_bad_tag_files_are_refused(world: CliWorld, twins: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text('{"a": [1]}')
    (tmp_path / "broken.json").write_text('{"a": 1,')
    (tmp_path / "bad.txt").write_text("novalue\n")
    for name in ("missing.json", "list.json"):
        path = str(tmp_path / name)
        ours = world.run("instance", "tag", "set", "ours", "-f", path)
        theirs = world.triton("instance", "tag", "set", "theirs", "-f", path)
        assert ours.status == theirs.status == 1, name
        assert _first_error(ours) == _first_error(theirs), name
    for name, message in (
        ("list.json", f"invalid tag value type (from {tmp_path / 'list.json'}): must be one of"),
        ("broken.json", f"error: tag (from {tmp_path / 'broken.json'}) is not valid JSON: "),
        ("bad.txt", "error (Usage): invalid KEY=VALUE tag argument: novalue"),
    ):
        result = world.run("instance", "tag", "set", "ours", "-f", str(tmp_path / name))
        assert result.status == 1 and message in result.err, name
    assert (
        world.ok("instance", "tag", "list", "ours").json()
        == world.triton("instance", "tag", "list", "theirs").json()
    )


def test_replace_all_then_delete_like_triton(
    world: CliWorld, api: CloudAPI, twins: dict[str, str]
) -> None:
    ours = world.run("instance", "tag", "replace-all", "ours", "x=1", "y=two", "-w")
    theirs = world.triton("instance", "tag", "replace-all", "theirs", "x=1", "y=two")
    _same(ours, theirs)
    assert world.ok("instance", "tag", "list", "ours", "-j").json() == {"x": 1, "y": "two"}
    assert world.ok("instance", "tag", "set", "ours", "-q", "z=1").out == ""
    api.add_machine_tags(twins["theirs"], {"z": 1})

    ours = world.run("instance", "tag", "delete", "ours", "x", "x", "y")
    theirs = world.triton("instance", "tag", "delete", "theirs", "x", "x", "y")
    _same(ours, theirs)
    assert ours.out == "Deleted tag x on instance ours\nDeleted tag y on instance ours\n"
    # the second name is missing: the first is deleted, then CloudAPI's 404 (exit 1)
    ours = world.run("instance", "tag", "delete", "ours", "z", "y")
    theirs = world.triton("instance", "tag", "delete", "theirs", "z", "y")
    _same(ours, theirs)

    world.ok("instance", "tag", "set", "ours", "p=1", "q=2")
    deleted = world.ok("instance", "tag", "rm", "--all", "-w", "ours")
    assert deleted.out == "Deleted all tags on instance ours\n"
    assert world.ok("instance", "tag", "list", "ours").json() == {}


# --- metadata ----------------------------------------------------------------------------------


def test_metadata_list_and_get_print_what_triton_prints(
    world: CliWorld, twins: dict[str, str]
) -> None:
    uuid = twins["fixed"]
    for args in (
        ["instance", "metadata", "list", "fixed"],
        ["instance", "metadatas", uuid, "-j"],
        ["instance", "metadata", "get", "fixed", "foo"],
    ):
        _same(world.run(*args), world.triton(*args))
    assert world.ok("instance", "metadata", "get", uuid, "foo", "-j").out == '"bar"\n'
    assert world.ok("instance", "metadata", "list", "fixed", "-j").json()["foo"] == "bar"


def test_metadata_failures_like_triton(world: CliWorld, twins: dict[str, str]) -> None:
    for args in (
        ["get", "fixed", "nope"],  # CloudAPI's 404: exit 1
        ["get", "nosuch", "foo"],  # no such instance: exit 3
        ["get", "fixed"],
    ):
        ours = world.run("instance", "metadata", *args)
        theirs = world.triton("instance", "metadata", *args)
        assert ours.status == theirs.status, args
        assert _first_error(ours) == _first_error(theirs), args
    assert world.run("instance", "metadata", "get", "nosuch", "foo").status == 3
    for args, message in (
        (["list"], "missing INST argument"),
        (["list", "fixed", "extra"], "incorrect number of arguments"),
        (["get", "fixed", "a", "b"], "incorrect number of arguments"),
        (["set", "fixed", "novalue"], "invalid KEY=VALUE metadata argument: novalue"),
        (["delete", "fixed"], "missing INST and METADATA argument(s)"),
        # triton fails an assertion when there is nothing to set
        (["set", "fixed"], "no metadata were provided"),
    ):
        result = world.run("instance", "metadata", *args)
        assert result.status == 1, args
        assert result.err.splitlines()[0].endswith(f"error (Usage): {message}"), args


def test_metadata_set_and_delete(world: CliWorld, twins: dict[str, str], tmp_path: Path) -> None:
    meta = tmp_path / "meta.json"
    meta.write_text('{"from_file": "yes", "a": "0"}')
    args = ["-f", str(meta), "a=1", "b=true", "s=text"]
    ours = world.run("instance", "metadata", "set", "ours", *args)
    theirs = world.triton("instance", "metadata", "set", "theirs", *args)
    _same(ours, theirs)
    assert ours.err == theirs.err
    assert {k: ours.json()[k] for k in ("from_file", "a", "b", "s")} == {
        "from_file": "yes",
        "a": 1,
        "b": True,
        "s": "text",
    }

    # -w waits for the audit record, so the value can be read at once
    assert world.ok("instance", "metadata", "set", "ours", "-w", "-q", "w=now").out == ""
    assert world.ok("instance", "metadata", "get", "ours", "w").out == "now\n"

    # without -f the delete asks, and without a terminal it cannot: nothing is deleted
    refused = world.run("instance", "metadata", "delete", "ours", "w")
    assert refused.status == 1 and "-f" in refused.err
    assert world.ok("instance", "metadata", "get", "ours", "w").out == "now\n"

    uuid = twins["ours"]
    deleted = world.ok("instance", "metadata", "rm", "-f", "ours", "w", "s")
    assert sorted(deleted.out.splitlines()) == [
        f'Deleted metadata s of instance "{uuid}"',
        f'Deleted metadata w of instance "{uuid}"',
    ]
    cleared = world.ok("instance", "metadata", "delete", "-f", "--all", "-w", "ours")
    assert cleared.out == "Deleted all metadatas on instance ours\n"
    assert list(world.ok("instance", "metadata", "list", "ours", "-j").json()) == [
        "root_authorized_keys"
    ]
