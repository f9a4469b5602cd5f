"""The CLI's configuration: node-triton's config dir, profiles, precedence and ``env``."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from smartdc.cli.config import (
    ENV_PROFILE,
    CliConfig,
    GlobalOptions,
    Profile,
    ProfileNotFoundError,
    Setting,
    check_profile_name,
    config_dir,
    create_profile,
    delete_profile,
    env_lines,
    env_text,
    list_profiles,
    load_config,
    load_profile,
    parse_profile_json,
    parse_roles,
    profile_from_copy,
    profile_from_data,
    profile_slug,
    resolve,
    save_profile,
    set_current_profile,
)
from smartdc.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
TRITON = REPO / ".node" / "node_modules" / ".bin" / "triton"

PROD = {
    "url": "https://us-central-1.api.example.com",
    "account": "bob",
    "keyId": "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def cfg(home: Path) -> Path:
    """The config dir triton uses for ``home``."""
    return home / ".triton"


def write_profile(cfg: Path, name: str, data: Any) -> Path:
    """A profile file exactly as ``triton profile create`` writes it."""
    path = cfg / "profiles.d" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


def write_config(cfg: Path, data: Mapping[str, Any]) -> None:
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "config.json").write_text(json.dumps(data, indent=4), encoding="utf-8")


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), **extra}


# --- config dir --------------------------------------------------------------------------------


def test_config_dir_defaults_to_dot_triton_in_home(home: Path) -> None:
    assert config_dir({"HOME": str(home)}, platform="linux") == home / ".triton"


def test_config_dir_follows_xdg_config_home(home: Path, tmp_path: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert config_dir(env, platform="linux") == tmp_path / "xdg" / "triton"


def test_config_dir_ignores_empty_xdg_config_home(home: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": ""}
    assert config_dir(env, platform="linux") == home / ".triton"


def test_config_dir_honours_triton_test_override(home: Path, tmp_path: Path) -> None:
    env = {"HOME": str(home), "TRITONTEST_CLI_CONFIG_DIR": str(tmp_path / "t")}
    assert config_dir(env, platform="linux") == tmp_path / "t"


def test_config_dir_on_windows_uses_appdata(tmp_path: Path) -> None:
    env = {"APPDATA": str(tmp_path), "XDG_CONFIG_HOME": "/ignored"}
    assert config_dir(env, platform="win32") == tmp_path / "Joyent" / "Triton"


def test_config_dir_without_home_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="HOME"):
        config_dir({}, platform="linux")


# --- config.json -------------------------------------------------------------------------------


def test_missing_config_file_is_empty_config(cfg: Path) -> None:
    config = load_config(cfg)
    assert config == CliConfig(config_dir=cfg)
    assert config.profile is None and config.cache_dir == "cache"


def test_config_file_values_are_read(cfg: Path) -> None:
    write_config(cfg, {"profile": "prod", "oldProfile": "dev", "cacheDir": "/var/c", "x": 1})
    config = load_config(cfg)
    assert (config.profile, config.old_profile, config.cache_dir) == ("prod", "dev", "/var/c")
    assert config.data["x"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is invalid JSON"),
        ("[1, 2]", "is not an object"),
        ('{"profile": 5}', '"profile" in .* must be a string'),
    ],
)
def test_bad_config_file_is_reported_with_its_path(cfg: Path, text: str, message: str) -> None:
    cfg.mkdir()
    (cfg / "config.json").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(cfg)
    assert str(cfg / "config.json") in str(info.value)


def test_set_current_writes_triton_formatted_config(cfg: Path) -> None:
    write_profile(cfg, "a", PROD)
    write_profile(cfg, "b", PROD)
    assert set_current_profile(cfg, "a", {}).changed
    assert (cfg / "config.json").read_text() == '{\n    "profile": "a"\n}'
    set_current_profile(cfg, "b", {})
    assert (cfg / "config.json").read_text() == ('{\n    "profile": "b",\n    "oldProfile": "a"\n}')


def test_set_current_dash_switches_back_and_forth(cfg: Path) -> None:
    write_profile(cfg, "a", PROD)
    write_profile(cfg, "b", PROD)
    set_current_profile(cfg, "a", {})
    set_current_profile(cfg, "b", {})
    change = set_current_profile(cfg, "-", {})
    assert change.name == "a"
    assert load_config(cfg).old_profile == "b"
    assert set_current_profile(cfg, "-", {}).name == "b"


def test_set_current_dash_without_previous_profile_fails(cfg: Path) -> None:
    write_profile(cfg, "a", PROD)
    set_current_profile(cfg, "a", {})
    with pytest.raises(ConfigError, match='"oldProfile" is not set'):
        set_current_profile(cfg, "-", {})


def test_set_current_keeps_unknown_keys_and_their_order(cfg: Path) -> None:
    write_config(cfg, {"cacheDir": "/tmp/c", "profile": "a", "extra": [1]})
    write_profile(cfg, "b", PROD)
    set_current_profile(cfg, "b", {})
    data = json.loads((cfg / "config.json").read_text())
    assert list(data.items()) == [
        ("cacheDir", "/tmp/c"),
        ("profile", "b"),
        ("extra", [1]),
        ("oldProfile", "a"),
    ]


def test_set_current_unknown_profile_fails_and_writes_nothing(cfg: Path) -> None:
    with pytest.raises(ProfileNotFoundError, match="no such profile: nope"):
        set_current_profile(cfg, "nope", {})
    assert not (cfg / "config.json").exists()


def test_set_current_already_current_writes_nothing(cfg: Path) -> None:
    write_profile(cfg, "a", PROD)
    change = set_current_profile(cfg, "a", {}, current="a")
    assert change.name == "a" and not change.changed
    assert not (cfg / "config.json").exists()


def test_set_current_env_needs_the_env_variables(cfg: Path) -> None:
    with pytest.raises(ConfigError, match='could not load "env" profile'):
        set_current_profile(cfg, ENV_PROFILE, {})
    env = {"SDC_URL": "https://u", "SDC_ACCOUNT": "a", "SDC_KEY_ID": "k"}
    assert set_current_profile(cfg, ENV_PROFILE, env).changed
    assert load_config(cfg).profile == "env"


# --- atomic writes -----------------------------------------------------------------------------


def test_writes_leave_no_temporary_files_and_keep_permissions(cfg: Path) -> None:
    path = write_profile(cfg, "prod", PROD)
    path.chmod(0o600)
    profile = load_profile(cfg, "prod", {})
    save_profile(cfg, profile.replace(account="carol"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["prod.json"]
    assert json.loads(path.read_text())["account"] == "carol"


def test_writing_through_a_symlinked_profile_updates_its_target(cfg: Path, tmp_path: Path) -> None:
    real = tmp_path / "shared" / "prod.json"
    real.parent.mkdir()
    real.write_text(json.dumps(PROD, indent=4))
    (cfg / "profiles.d").mkdir(parents=True)
    (cfg / "profiles.d" / "prod.json").symlink_to(real)
    save_profile(cfg, Profile("prod", PROD["url"], "carol", PROD["keyId"]))
    assert (cfg / "profiles.d" / "prod.json").is_symlink()
    assert json.loads(real.read_text())["account"] == "carol"


# --- profile files -----------------------------------------------------------------------------


def test_saved_profile_has_triton_layout(cfg: Path) -> None:
    profile = Profile(
        "prod",
        PROD["url"],
        "bob",
        PROD["keyId"],
        insecure=True,
        user="ann",
        roles=("ops", "dev"),
        act_as_account="corp",
    )
    path = save_profile(cfg, profile)
    assert path == cfg / "profiles.d" / "prod.json"
    assert path.read_text() == (
        "{\n"
        f'    "url": "{PROD["url"]}",\n'
        '    "account": "bob",\n'
        f'    "keyId": "{PROD["keyId"]}",\n'
        '    "insecure": true,\n'
        '    "user": "ann",\n'
        '    "roles": [\n'
        '        "ops",\n'
        '        "dev"\n'
        "    ],\n"
        '    "actAsAccount": "corp"\n'
        "}"
    )
    loaded = load_profile(cfg, "prod", {})
    assert loaded == profile
    assert loaded.path == path


def test_loading_and_saving_keeps_the_file_byte_for_byte(cfg: Path) -> None:
    data = {
        "keyId": "k",
        "roles": [],
        "url": "https://ü.example",
        "insecure": False,
        "account": "a",
    }
    path = write_profile(cfg, "odd", data)
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False), encoding="utf-8")
    before = path.read_bytes()
    save_profile(cfg, load_profile(cfg, "odd", {}))
    assert path.read_bytes() == before


def test_list_profiles_env_first_then_files_in_name_order(cfg: Path) -> None:
    for name in ("zeta", "alpha", "Mid"):
        write_profile(cfg, name, PROD)
    env = {"TRITON_URL": "https://u", "TRITON_ACCOUNT": "a", "TRITON_KEY_ID": "k"}
    names = [p.name for p in list_profiles(cfg, env)]
    assert names == ["env", "Mid", "alpha", "zeta"]
    assert [p.name for p in list_profiles(cfg, {})] == ["Mid", "alpha", "zeta"]


def test_list_profiles_skips_invalid_and_reserved_files(cfg: Path) -> None:
    write_profile(cfg, "good", PROD)
    write_profile(cfg, "bad", {"url": "u"})
    write_profile(cfg, "ENV", PROD)
    (cfg / "profiles.d" / "notes.txt").write_text("not a profile")
    errors: list[tuple[Path, ConfigError]] = []
    profiles = list_profiles(cfg, {}, on_error=lambda p, e: errors.append((p, e)))
    assert [p.name for p in profiles] == ["good"]
    assert sorted(p.name for p, _ in errors) == ["ENV.json", "bad.json"]


def test_list_profiles_applies_flags_to_env_profile_only(cfg: Path) -> None:
    write_profile(cfg, "prod", PROD)
    env = {"TRITON_ACCOUNT": "a", "TRITON_KEY_ID": "k"}
    profiles = list_profiles(cfg, env, options=GlobalOptions(url="https://flag", account="f"))
    by_name = {p.name: p for p in profiles}
    assert (by_name["env"].url, by_name["env"].account) == ("https://flag", "f")
    assert by_name["prod"].account == "bob"


def test_delete_profile(cfg: Path) -> None:
    path = write_profile(cfg, "prod", PROD)
    assert delete_profile(cfg, "prod") == path
    assert not path.exists()
    with pytest.raises(ProfileNotFoundError, match="no such profile: prod"):
        delete_profile(cfg, "prod")


def test_broken_profile_can_still_be_deleted(cfg: Path) -> None:
    path = write_profile(cfg, "broken", {"bogus": 1})
    delete_profile(cfg, "broken")
    assert not path.exists()


def test_env_profile_cannot_be_saved_or_deleted(cfg: Path) -> None:
    with pytest.raises(ConfigError, match='cannot save "env" profile'):
        save_profile(cfg, Profile("env", "https://u", "a", "k"))
    with pytest.raises(ConfigError, match='cannot delete "env" profile'):
        delete_profile(cfg, "env")
    assert not (cfg / "profiles.d").exists()


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".."])
def test_names_that_are_not_file_names_are_refused(cfg: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="invalid profile name"):
        load_profile(cfg, name, {})
    with pytest.raises(ConfigError, match="invalid profile name"):
        save_profile(cfg, Profile(name, "https://u", "a", "k"))


def test_strict_names_follow_triton_interactive_rule() -> None:
    check_profile_name("us-east.1_b", strict=True)
    check_profile_name("Prod Copy")  # triton profile create -f accepts it
    with pytest.raises(ConfigError, match="lowercase letter"):
        check_profile_name("Prod Copy", strict=True)


# --- profile validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**PROD, "foo": 1, "bar": 2}, 'extraneous fields in "p" profile: {path}: foo, bar'),
        ({**PROD, "name": "other"}, 'error in "p" profile: {path}: file must not include "name"'),
        ({**PROD, "insecure": "yes"}, 'invalid "p" profile from {path}: "insecure" must be true'),
        ({**PROD, "roles": "ops"}, 'invalid "p" profile from {path}: "roles" must be an array'),
        ({**PROD, "user": 7}, 'invalid "p" profile from {path}: "user" must be a string'),
        ({"url": "u", "account": "a"}, 'invalid "p" profile from {path}: "keyId" is missing'),
        ({"url": 5, "account": "a", "keyId": "k"}, '"url" must be a string, not 5'),
        ([PROD], 'error in "p" profile: {path}: not a JSON object'),
    ],
)
def test_invalid_profile_file_names_file_and_field(cfg: Path, data: Any, message: str) -> None:
    path = write_profile(cfg, "p", data)
    with pytest.raises(ConfigError) as info:
        load_profile(cfg, "p", {})
    assert message.format(path=path) in str(info.value)


def test_profile_file_that_is_not_json(cfg: Path) -> None:
    path = write_profile(cfg, "p", PROD)
    path.write_text('{"url":')
    with pytest.raises(ConfigError, match=re.escape(f'error in "p" profile: {path}: invalid JSON')):
        load_profile(cfg, "p", {})


def test_optional_fields_may_be_null(cfg: Path) -> None:
    write_profile(cfg, "p", {**PROD, "user": None, "insecure": None})
    profile = load_profile(cfg, "p", {})
    assert profile.user is None and profile.insecure is None


# --- the env profile ---------------------------------------------------------------------------

FULL_TRITON = {
    "TRITON_URL": "https://triton",
    "TRITON_ACCOUNT": "t-acct",
    "TRITON_KEY_ID": "t-key",
    "TRITON_USER": "t-user",
}
FULL_SDC = {
    "SDC_URL": "https://sdc",
    "SDC_ACCOUNT": "s-acct",
    "SDC_KEY_ID": "s-key",
    "SDC_USER": "s-user",
}


def test_env_profile_prefers_triton_variables(cfg: Path) -> None:
    profile = load_profile(cfg, "env", {**FULL_SDC, **FULL_TRITON})
    assert (profile.url, profile.account, profile.key_id, profile.user) == (
        "https://triton",
        "t-acct",
        "t-key",
        "t-user",
    )
    assert profile.path is None and profile.insecure is None


def test_env_profile_falls_back_to_sdc_variables_including_empty_triton_ones(cfg: Path) -> None:
    env = {**FULL_SDC, "TRITON_URL": "", "TRITON_ACCOUNT": "t-acct"}
    profile = load_profile(cfg, "env", env)
    assert (profile.url, profile.account, profile.key_id, profile.user) == (
        "https://sdc",
        "t-acct",
        "s-key",
        "s-user",
    )


@pytest.mark.parametrize(
    ("extra", "insecure"),
    [
        ({"TRITON_TLS_INSECURE": "1"}, True),
        ({"TRITON_TLS_INSECURE": "false", "SDC_TESTING": "1"}, False),
        ({"SDC_TLS_INSECURE": "true"}, True),
        ({"SDC_TLS_INSECURE": "0", "SDC_TESTING": "1"}, False),
        ({"SDC_TESTING": "no"}, True),  # any value, as the old smartdc tools
        ({"SDC_TESTING": ""}, None),
        ({}, None),
    ],
)
def test_env_profile_insecure(cfg: Path, extra: dict[str, str], insecure: bool | None) -> None:
    assert load_profile(cfg, "env", {**FULL_SDC, **extra}).insecure is insecure


def test_env_profile_rejects_a_bad_boolean(cfg: Path) -> None:
    with pytest.raises(ConfigError, match='TRITON_TLS_INSECURE: "yes"'):
        load_profile(cfg, "env", {**FULL_SDC, "TRITON_TLS_INSECURE": "yes"})


def test_env_profile_act_as_and_key_order(cfg: Path) -> None:
    env = {**FULL_TRITON, "TRITON_ACT_AS": "corp", "SDC_TESTING": "1"}
    profile = load_profile(cfg, "env", env)
    assert profile.act_as_account == "corp"
    assert list(profile.triton_dict()) == [
        "name",
        "account",
        "user",
        "url",
        "keyId",
        "actAsAccount",
        "insecure",
    ]


def test_env_profile_missing_variables_are_named(cfg: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_profile(cfg, "env", {"SDC_ACCOUNT": "a"})
    text = str(info.value)
    assert text.startswith('could not load "env" profile')
    assert "TRITON_URL (or SDC_URL)" in text and "TRITON_KEY_ID (or SDC_KEY_ID)" in text
    assert "TRITON_ACCOUNT" not in text


# --- resolve: which profile --------------------------------------------------------------------


@pytest.fixture
def three(cfg: Path) -> Path:
    """Profiles a, b, c; config.json makes c current."""
    for name in "abc":
        write_profile(cfg, name, {**PROD, "account": f"acct-{name}"})
    write_config(cfg, {"profile": "c"})
    return cfg


ENV_ALL = {"TRITON_URL": "https://env", "TRITON_ACCOUNT": "acct-env", "TRITON_KEY_ID": "k"}


@pytest.mark.parametrize(
    ("flag", "triton_profile", "config", "expected", "source"),
    [
        ("a", "b", True, "a", "-p flag"),
        (None, "b", True, "b", "TRITON_PROFILE environment variable"),
        (None, None, True, "c", "config.json ({cfg}/config.json)"),
        (None, "", True, "c", "config.json ({cfg}/config.json)"),
        ("", "b", True, "c", "config.json ({cfg}/config.json)"),
        (None, None, False, "env", "default"),
    ],
)
def test_profile_precedence(
    three: Path,
    flag: str | None,
    triton_profile: str | None,
    config: bool,
    expected: str,
    source: str,
) -> None:
    if not config:
        (three / "config.json").unlink()
    env = dict(ENV_ALL)
    if triton_profile is not None:
        env["TRITON_PROFILE"] = triton_profile
    resolved = resolve(GlobalOptions(profile=flag), env, three)
    assert resolved.profile_name == expected
    assert resolved.account == f"acct-{expected}"
    assert resolved.source("profile_name") == source.format(cfg=three)


def test_env_variables_do_not_override_a_named_profile(three: Path) -> None:
    env = {**ENV_ALL, **FULL_SDC, "TRITON_USER": "u", "TRITON_TLS_INSECURE": "1"}
    resolved = resolve(GlobalOptions(profile="a"), env, three)
    assert (resolved.url, resolved.account, resolved.user, resolved.insecure) == (
        PROD["url"],
        "acct-a",
        None,
        False,
    )
    path = three / "profiles.d" / "a.json"
    assert resolved.source("url") == f"profile 'a' ({path})"
    assert resolved.source("user") == "not set"
    assert resolved.source("insecure") == "default"


def test_flags_override_profile_values_with_sources(three: Path) -> None:
    options = GlobalOptions(
        profile="a",
        url="https://flag",
        account="flag-acct",
        user="flag-user",
        key_id="flag-key",
        insecure=True,
        roles=["r1, r2", "r3"],
        act_as="corp",
    )
    resolved = resolve(options, {}, three)
    assert (resolved.url, resolved.account, resolved.user, resolved.key_id) == (
        "https://flag",
        "flag-acct",
        "flag-user",
        "flag-key",
    )
    assert (resolved.insecure, resolved.roles, resolved.act_as) == (
        True,
        ("r1", "r2", "r3"),
        "corp",
    )
    shown = {s.key: s.source for s in resolved.settings()}
    assert shown == {
        "profile": "-p flag",
        "url": "-U flag",
        "account": "-a flag",
        "keyId": "-k flag",
        "user": "-u flag",
        "roles": "-r flag",
        "actAsAccount": "--act-as flag",
        "insecure": "-i flag",
        "caBundle": "not set",
    }
    # the file is untouched
    assert load_profile(three, "a", {}).account == "acct-a"


def test_env_profile_values_name_their_variables(cfg: Path) -> None:
    env = {**FULL_SDC, "TRITON_URL": "https://t", "SDC_TESTING": "1", "TRITON_ACT_AS": "x"}
    resolved = resolve(GlobalOptions(account="flag"), env, cfg)
    assert resolved.profile_name == "env"
    shown = {s.key: (s.value, s.source) for s in resolved.settings()}
    assert shown["url"] == ("https://t", "TRITON_URL environment variable")
    assert shown["account"] == ("flag", "-a flag")
    assert shown["keyId"] == ("s-key", "SDC_KEY_ID environment variable")
    assert shown["user"] == ("s-user", "SDC_USER environment variable")
    assert shown["insecure"] == (True, "SDC_TESTING environment variable")
    assert shown["actAsAccount"] == ("x", "TRITON_ACT_AS environment variable")
    assert shown["profile"] == ("env", "default")


def test_flags_complete_an_env_profile(cfg: Path) -> None:
    resolved = resolve(GlobalOptions(url="https://u", account="a", key_id="k"), {}, cfg)
    assert (resolved.profile_name, resolved.url) == ("env", "https://u")


def test_triton_role_applies_to_named_profiles_and_yields_to_r(three: Path) -> None:
    resolved = resolve(GlobalOptions(profile="a"), {"TRITON_ROLE": "x, y"}, three)
    assert resolved.roles == ("x", "y")
    assert resolved.source("roles") == "TRITON_ROLE environment variable"
    resolved = resolve(GlobalOptions(profile="a", roles=["z"]), {"TRITON_ROLE": "x"}, three)
    assert resolved.roles == ("z",)


@pytest.mark.parametrize(
    ("flag", "env", "value", "source"),
    [
        ("/f.pem", {"TRITON_CA_BUNDLE": "/t.pem", "SSL_CERT_FILE": "/s.pem"}, "/f.pem", "flag"),
        (None, {"TRITON_CA_BUNDLE": "/t.pem", "SSL_CERT_FILE": "/s.pem"}, "/t.pem", "TRITON"),
        (None, {"TRITON_CA_BUNDLE": "", "SSL_CERT_FILE": "/s.pem"}, "/s.pem", "SSL"),
        (None, {}, None, "not set"),
    ],
)
def test_ca_bundle_precedence(
    three: Path, flag: str | None, env: dict[str, str], value: str | None, source: str
) -> None:
    resolved = resolve(GlobalOptions(profile="a", ca_bundle=flag), env, three)
    assert resolved.ca_bundle == value
    assert resolved.source("ca_bundle").startswith({"flag": "--ca-bundle"}.get(source, source))


def test_ca_bundle_is_never_stored_in_a_profile(three: Path) -> None:
    resolved = resolve(GlobalOptions(profile="a", ca_bundle="/ca.pem"), {}, three)
    path = save_profile(three, resolved.profile)
    assert "/ca.pem" not in path.read_text()
    assert load_profile(three, "a", {}) == resolved.profile


def test_nothing_configured_says_how_to_set_it_up(cfg: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(GlobalOptions(), {"TRITON_ACCOUNT": "a"}, cfg)
    text = str(info.value)
    assert "-U/--url URL, or set TRITON_URL (or SDC_URL)" in text
    assert "-k/--keyId FINGERPRINT, or set TRITON_KEY_ID (or SDC_KEY_ID)" in text
    assert "account" not in text.split("\n", 1)[1].split("No profile")[0]
    assert '"smartdc profile create"' in text


def test_explicit_env_profile_gets_no_setup_hint(cfg: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(GlobalOptions(profile="env"), {}, cfg)
    assert "No profile information" not in str(info.value)


def test_unknown_profile_names_where_the_name_came_from(three: Path) -> None:
    with pytest.raises(ProfileNotFoundError) as info:
        resolve(GlobalOptions(), {"TRITON_PROFILE": "gone"}, three)
    assert "no such profile: gone (from TRITON_PROFILE environment variable)" in str(info.value)
    assert "smartdc profile create" in str(info.value)


def test_named_profile_missing_a_field_names_file_and_flag(cfg: Path) -> None:
    path = write_profile(cfg, "p", {"url": "https://u", "account": "a"})
    with pytest.raises(ConfigError) as info:
        resolve(GlobalOptions(profile="p"), {}, cfg)
    assert f'invalid "p" profile from {path}: missing "keyId"' in str(info.value)
    assert "-k/--keyId" in str(info.value)
    assert resolve(GlobalOptions(profile="p", key_id="k"), {}, cfg).key_id == "k"


def test_cache_dir_is_per_profile(three: Path) -> None:
    resolved = resolve(GlobalOptions(profile="a", user="me@x"), {}, three)
    assert resolved.cache_dir == three / "cache" / "me_x-acct-a@us-central-1_api_example_com"


def test_resolved_settings_are_in_display_order(three: Path) -> None:
    settings = resolve(GlobalOptions(profile="a"), {}, three).settings()
    assert all(isinstance(s, Setting) for s in settings)
    assert [s.key for s in settings] == [
        "profile",
        "url",
        "account",
        "keyId",
        "user",
        "roles",
        "actAsAccount",
        "insecure",
        "caBundle",
    ]


def test_parse_roles() -> None:
    assert parse_roles(["a, b", " c ", ",,d,"]) == ["a", "b", "c", "d"]
    assert parse_roles([""]) == []


# --- env output --------------------------------------------------------------------------------

SAMPLE = Profile("prod", "https://u.example", "bob", "aa:bb")


def test_env_all_sections(cfg: Path) -> None:
    assert env_text(SAMPLE, cfg) == (
        "# triton\n"
        'export TRITON_PROFILE="prod"\n'
        "# docker\n"
        "# smartdc\n"
        'export SDC_URL="https://u.example"\n'
        'export SDC_ACCOUNT="bob"\n'
        "unset SDC_USER\n"
        'export SDC_KEY_ID="aa:bb"\n'
        "unset SDC_TESTING\n"
        "# Run this command to configure your shell:\n"
        '#     eval "$(smartdc env)"\n'
    )


def test_env_smartdc_with_user_insecure_for_another_profile(cfg: Path) -> None:
    profile = Profile("west", "https://w", "bob", "k", insecure=True, user="ann")
    assert env_lines(profile, cfg, smartdc=True, is_current=False) == [
        "# smartdc",
        'export SDC_URL="https://w"',
        'export SDC_ACCOUNT="bob"',
        'export SDC_USER="ann"',
        'export SDC_KEY_ID="k"',
        'export SDC_TESTING="true"',
        "# Run this command to configure your shell:",
        '#     eval "$(smartdc env -s west)"',
    ]


def test_env_unset(cfg: Path) -> None:
    lines = env_lines(SAMPLE, cfg, unset=True)
    assert lines[:8] == ["# triton"] + [
        f"unset TRITON_{n}" for n in ("PROFILE", "URL", "ACCOUNT", "USER", "KEY_ID", "TLS_INSECURE")
    ] + ["# docker"]
    assert "unset DOCKER_HOST" in lines and "unset SDC_TESTING" in lines
    assert lines[-1] == '#     eval "$(smartdc env -u)"'


def write_docker_setup(cfg: Path, profile: Profile) -> None:
    setup = cfg / "docker" / profile_slug(profile) / "setup.json"
    setup.parent.mkdir(parents=True)
    env = {
        "DOCKER_CERT_PATH": str(setup.parent),
        "DOCKER_HOST": "tcp://10.0.0.1:2376",
        "DOCKER_TLS_VERIFY": "1",
        "COMPOSE_HTTP_TIMEOUT": 300,
        "DOCKER_API_VERSION": None,
    }
    setup.write_text(json.dumps({"profile": profile.name, "env": env}, indent=4))


def test_env_docker_from_setup(cfg: Path) -> None:
    write_docker_setup(cfg, SAMPLE)
    lines = env_lines(SAMPLE, cfg, docker=True)
    assert lines == [
        "# docker",
        f"export DOCKER_CERT_PATH={cfg / 'docker' / 'bob@u_example'}",
        "export DOCKER_HOST=tcp://10.0.0.1:2376",
        "export DOCKER_TLS_VERIFY=1",
        "export COMPOSE_HTTP_TIMEOUT=300",
        "unset DOCKER_API_VERSION",
        "# Run this command to configure your shell:",
        '#     eval "$(smartdc env -d)"',
    ]


def test_env_docker_explicit_without_setup_is_an_error(cfg: Path) -> None:
    with pytest.raises(ConfigError, match="profile docker-setup prod"):
        env_lines(SAMPLE, cfg, docker=True)


def test_profile_slug() -> None:
    profile = Profile("p", "https://us-east-1.api.x.com", "a@b.c", "k", user="u@d")
    assert profile_slug(profile) == "u_d-a_b_c@us-east-1_api_x_com"
    assert profile_slug(Profile("p", "http://h:8080/x", "a", "k", act_as_account="o")) == (
        "o@h_8080_x"
    )


# --- profile create -f / --copy ----------------------------------------------------------------


def test_create_first_profile_becomes_current(cfg: Path) -> None:
    data = parse_profile_json(json.dumps({"name": "prod", **PROD, "curr": True}), "p.json")
    created = create_profile(cfg, data, {}, source="p.json")
    assert created.made_current and created.path == cfg / "profiles.d" / "prod.json"
    assert json.loads(created.path.read_text()) == PROD
    assert load_config(cfg).profile == "prod"
    second = create_profile(cfg, {"name": "dev", **PROD}, {})
    assert not second.made_current
    assert load_config(cfg).profile == "prod"


def test_create_does_not_set_current_when_env_profile_exists(cfg: Path) -> None:
    assert not create_profile(cfg, {"name": "prod", **PROD}, ENV_ALL).made_current
    assert not (cfg / "config.json").exists()


def test_create_refuses_existing_names(cfg: Path) -> None:
    create_profile(cfg, {"name": "prod", **PROD}, {})
    with pytest.raises(ConfigError, match='profile "prod" already exists'):
        create_profile(cfg, {"name": "prod", **PROD}, {})
    with pytest.raises(ConfigError, match='profile "env" already exists'):
        create_profile(cfg, {"name": "env", **PROD}, ENV_ALL)
    with pytest.raises(ConfigError, match='cannot save "env" profile'):
        create_profile(cfg, {"name": "env", **PROD}, {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PROD, 'invalid profile from f.json: "name" is missing'),
        ({"name": "q", **PROD, "roles": "x"}, 'invalid "q" profile from f.json: "roles" must be'),
        ({"name": "q", **PROD, "ca": 1}, 'extraneous fields in "q" profile: f.json: ca'),
        ([1], "invalid profile from f.json: expected a JSON object"),
    ],
)
def test_create_validates(cfg: Path, data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        create_profile(cfg, data, {}, source="f.json")
    assert message in str(info.value)
    assert not (cfg / "profiles.d").exists()


def test_parse_profile_json_errors() -> None:
    with pytest.raises(ConfigError, match=re.escape('invalid profile JSON in "x.json"')):
        parse_profile_json("{", "x.json")
    with pytest.raises(ConfigError, match="invalid profile JSON on stdin"):
        parse_profile_json(b"[NaN]")


def test_profile_from_data_keeps_field_order_when_saved(cfg: Path) -> None:
    profile = profile_from_data({"account": "a", "name": "p", "keyId": "k", "url": "u"})
    save_profile(cfg, profile)
    assert list(json.loads((cfg / "profiles.d" / "p.json").read_text())) == [
        "account",
        "keyId",
        "url",
    ]


def test_copy_takes_other_fields_and_puts_prompted_ones_last(cfg: Path) -> None:
    base = Profile("prod", "https://u", "bob", "k", insecure=True, user="ann", roles=("r",))
    copy = profile_from_copy(base, {"name": "prod2", "account": "carol"})
    assert copy == Profile("prod2", "https://u", "carol", "k", True, "ann", ("r",))
    assert list(copy.triton_dict()) == [
        "insecure",
        "user",
        "roles",
        "name",
        "url",
        "account",
        "keyId",
    ]


def test_create_with_copy(cfg: Path) -> None:
    env = {**ENV_ALL, "SDC_TESTING": "1"}
    created = create_profile(cfg, {"name": "mine"}, env, copy="env")
    assert created.profile.url == "https://env" and created.profile.insecure is True
    with pytest.raises(ConfigError, match='no such profile from which to copy: "nope"'):
        create_profile(cfg, {"name": "x"}, env, copy="nope")


# --- interop with the real triton --------------------------------------------------------------

interop = pytest.mark.skipif(not TRITON.exists(), reason="node-triton is not installed")


def triton_env(home: Path, **extra: str) -> dict[str, str]:
    """Only what triton needs: no agent, no TRITON_*/SDC_* from the caller."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **extra}


def run_triton(
    env: Mapping[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(TRITON), *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(f"triton {' '.join(args)}: {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return proc


def triton_create(env: Mapping[str, str], data: Mapping[str, Any]) -> None:
    run_triton(env, "profile", "create", "-f", "-", "--no-docker", stdin=json.dumps(data))


def flags_of(options: GlobalOptions) -> list[str]:
    args: list[str] = []
    pairs = [
        ("-p", options.profile),
        ("-U", options.url),
        ("-a", options.account),
        ("-u", options.user),
        ("-k", options.key_id),
        ("--act-as", options.act_as),
    ]
    for flag, value in pairs:
        if value is not None:
            args += [flag, value]
    for role in options.roles or ():
        args += ["-r", role]
    if options.insecure:
        args.append("-i")
    return args


def compact(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.interop
@interop
def test_profiles_triton_creates_are_read(home: Path, cfg: Path) -> None:
    env = triton_env(home)
    triton_create(env, {"name": "prod", **PROD, "roles": ["a", "b"], "insecure": False})
    triton_create(env, {"name": "dev", "account": "d", "url": "https://d", "keyId": "k"})
    profiles = {p.name: p for p in list_profiles(cfg, env)}
    assert profiles["prod"] == Profile(
        "prod", PROD["url"], "bob", PROD["keyId"], insecure=False, roles=("a", "b")
    )
    assert profiles["dev"].account == "d"
    # triton made the first one current, and we see that
    assert resolve(GlobalOptions(), env, cfg).profile_name == "prod"
    # our rewrite of a triton file is byte-identical
    before = (cfg / "profiles.d" / "dev.json").read_bytes()
    save_profile(cfg, profiles["dev"])
    assert (cfg / "profiles.d" / "dev.json").read_bytes() == before


@pytest.mark.interop
@interop
def test_files_we_write_are_identical_to_tritons(tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    data = {"name": "prod", **PROD, "insecure": True, "user": "ann", "roles": ["r1"]}
    for home in (theirs, ours):
        home.mkdir()
    triton_create(triton_env(theirs), data)
    triton_create(triton_env(theirs), {**data, "name": "dev"})
    run_triton(triton_env(theirs), "profile", "set-current", "dev")
    create_profile(ours / ".triton", data, {})
    create_profile(ours / ".triton", {**data, "name": "dev"}, {})
    set_current_profile(ours / ".triton", "dev", {})
    for rel in ("profiles.d/prod.json", "profiles.d/dev.json", "config.json"):
        assert (ours / ".triton" / rel).read_bytes() == (theirs / ".triton" / rel).read_bytes()


@pytest.mark.interop
@interop
def test_triton_reads_what_we_write(home: Path, cfg: Path) -> None:
    env = triton_env(home)
    prod = Profile("prod", PROD["url"], "bob", PROD["keyId"], user="ann", act_as_account="corp")
    save_profile(cfg, prod)
    save_profile(cfg, Profile("dev", "https://d", "d", "k", insecure=True))
    set_current_profile(cfg, "dev", env)
    set_current_profile(cfg, "prod", env)

    listed = [json.loads(line) for line in run_triton(env, "profile", "list", "-j").stdout.split()]
    assert [(p["name"], p["curr"]) for p in listed] == [("dev", False), ("prod", True)]
    got = run_triton(env, "profile", "get", "dev", "-j").stdout.strip()
    dev = load_profile(cfg, "dev", env)
    assert got == compact({**dev.triton_dict(), "curr": False})
    # triton follows our oldProfile, and we read what it then writes
    assert 'Set "dev" as current' in run_triton(env, "profile", "set-current", "-").stdout
    assert load_config(cfg).profile == "dev" and load_config(cfg).old_profile == "prod"
    run_triton(env, "profile", "delete", "-f", "prod")
    assert [p.name for p in list_profiles(cfg, env)] == ["dev"]


@pytest.mark.interop
@interop
def test_env_profile_matches_triton(home: Path, cfg: Path) -> None:
    env = triton_env(
        home,
        TRITON_URL="https://t",
        SDC_URL="https://s",
        SDC_ACCOUNT="sa",
        TRITON_KEY_ID="tk",
        SDC_USER="su",
        TRITON_ACT_AS="corp",
        SDC_TLS_INSECURE="1",
    )
    got = run_triton(env, "profile", "get", "env", "-j").stdout.strip()
    assert got == compact({**load_profile(cfg, "env", env).triton_dict(), "curr": True})


RESOLVE_CASES: list[tuple[str, GlobalOptions, dict[str, str]]] = [
    ("config current", GlobalOptions(), {}),
    ("TRITON_PROFILE", GlobalOptions(), {"TRITON_PROFILE": "dev"}),
    ("-p beats TRITON_PROFILE", GlobalOptions(profile="prod"), {"TRITON_PROFILE": "dev"}),
    (
        "flags",
        GlobalOptions(
            profile="dev",
            url="https://flag",
            account="fa",
            user="fu",
            key_id="fk",
            insecure=True,
            roles=["r1,r2", "r3"],
            act_as="corp",
        ),
        {},
    ),
    ("env vars ignored", GlobalOptions(), {"TRITON_URL": "https://x", "SDC_ACCOUNT": "x"}),
    ("TRITON_ROLE", GlobalOptions(), {"TRITON_ROLE": "a,b"}),
    (
        "env profile",
        GlobalOptions(profile="env", user="fu"),
        {"SDC_URL": "https://s", "TRITON_ACCOUNT": "ta", "SDC_KEY_ID": "k", "SDC_TESTING": "x"},
    ),
]


@pytest.mark.interop
@interop
@pytest.mark.parametrize(
    ("label", "options", "extra"), RESOLVE_CASES, ids=[c[0] for c in RESOLVE_CASES]
)
def test_resolved_profile_matches_tritons_current_profile(
    home: Path, cfg: Path, label: str, options: GlobalOptions, extra: dict[str, str]
) -> None:
    env = triton_env(home, **extra)
    write_profile(cfg, "prod", {**PROD, "roles": ["x"]})
    write_profile(cfg, "dev", {"url": "https://d", "account": "d", "keyId": "k", "user": "u"})
    write_config(cfg, {"profile": "prod"})
    got = run_triton(env, *flags_of(options), "profile", "get", "-j").stdout.strip()
    resolved = resolve(options, env, cfg)
    assert got == compact({**resolved.profile.triton_dict(), "curr": True})


ENV_CASES: list[tuple[list[str], dict[str, Any]]] = [
    ([], {}),
    (["-t"], {"triton": True}),
    (["-s", "-u"], {"smartdc": True, "unset": True}),
    (["-u"], {"unset": True}),
    (["-d"], {"docker": True}),
    (["-t", "-d", "-s"], {"triton": True, "docker": True, "smartdc": True}),
]


@pytest.mark.interop
@interop
@pytest.mark.parametrize(
    ("args", "kinds"), ENV_CASES, ids=[" ".join(c[0]) or "all" for c in ENV_CASES]
)
def test_env_text_matches_triton_env(
    home: Path, cfg: Path, args: Sequence[str], kinds: dict[str, Any]
) -> None:
    env = triton_env(home)
    write_profile(cfg, "prod", {**PROD, "user": "ann", "insecure": True})
    write_config(cfg, {"profile": "prod"})
    profile = load_profile(cfg, "prod", env)
    write_docker_setup(cfg, profile)
    got = run_triton(env, "env", *args).stdout
    assert env_text(profile, cfg, program="triton", **kinds) == got


@pytest.mark.interop
@interop
def test_env_text_matches_triton_for_other_profile_and_flags(home: Path, cfg: Path) -> None:
    env = triton_env(home)
    write_profile(cfg, "prod", PROD)
    write_profile(cfg, "dev", {"url": "https://d", "account": "d", "keyId": "k"})
    write_config(cfg, {"profile": "prod"})
    options = GlobalOptions(account="flag", insecure=True)
    resolved = resolve(options, env, cfg)
    # the current profile gets the flags
    got = run_triton(env, *flags_of(options), "env", "-s").stdout
    assert env_text(resolved.profile, cfg, smartdc=True, program="triton") == got
    # another profile does not, and is named in the eval hint
    got = run_triton(env, *flags_of(options), "env", "dev").stdout
    dev = load_profile(cfg, "dev", env)
    assert env_text(dev, cfg, is_current=False, program="triton") == got
    # asking for docker without a setup fails in both
    proc = run_triton(env, "env", "-d", check=False)
    assert proc.returncode != 0 and "could not find Docker environment setup" in proc.stderr
    with pytest.raises(ConfigError, match="could not find Docker environment setup"):
        env_lines(resolved.profile, cfg, docker=True)


@pytest.mark.interop
@interop
def test_triton_and_we_agree_on_invalid_profiles(home: Path, cfg: Path) -> None:
    env = triton_env(home)
    cases = {
        "extra": {**PROD, "foo": 1},
        "named": {**PROD, "name": "x"},
        "nokey": {"url": "u", "account": "a"},
        "badbool": {**PROD, "insecure": "yes"},
    }
    for name, data in cases.items():
        write_profile(cfg, name, data)
    for name in cases:
        proc = run_triton(env, "profile", "get", name, check=False)
        assert proc.returncode == 1
        with pytest.raises(ConfigError) as info:
            load_profile(cfg, name, env)
        path = str(cfg / "profiles.d" / f"{name}.json")
        assert path in proc.stderr and path in str(info.value)
        lead = str(info.value).split(path)[0]
        assert lead in proc.stderr
    assert list_profiles(cfg, env) == []
