"""Configuration of the ``smartdc`` command: node-triton's config directory, read and written.

smartdc keeps its settings exactly where and how node-triton 7 keeps them, so a profile made
by ``triton profile create`` works with ``smartdc`` and the other way round:

* the config directory: ``$XDG_CONFIG_HOME/triton`` when that variable is set, else
  ``~/.triton`` (``%APPDATA%\\Joyent\\Triton`` on Windows);
* ``config.json`` in it: ``profile`` (the current profile), ``oldProfile`` (the one before,
  for ``profile set-current -``) and ``cacheDir``;
* one JSON file per profile in ``profiles.d/NAME.json``, holding ``url``, ``account``,
  ``keyId`` and optionally ``insecure``, ``user``, ``roles`` and ``actAsAccount``;
* the built-in ``env`` profile, made from ``TRITON_*`` / ``SDC_*`` environment variables.

Files are written the way node-triton writes them (4-space indented JSON, no final newline),
but atomically: a temporary file in the same directory is renamed over the old one.

Everything here is a plain function of its arguments (an environment mapping, a directory):
nothing reads ``os.environ`` or the real home directory by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from smartdc._record import Record
from smartdc.errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "ENV_PROFILE",
    "PROFILES_DIR",
    "PROFILE_FIELDS",
    "CliConfig",
    "CreatedProfile",
    "CurrentProfileChange",
    "GlobalOptions",
    "Profile",
    "ProfileNotFoundError",
    "Resolved",
    "Setting",
    "check_profile_name",
    "config_dir",
    "create_profile",
    "delete_profile",
    "env_lines",
    "env_text",
    "list_profiles",
    "load_config",
    "load_profile",
    "parse_profile_json",
    "parse_roles",
    "profile_from_copy",
    "profile_from_data",
    "profile_slug",
    "resolve",
    "save_profile",
    "set_current_profile",
]

#: The name of the profile built from environment variables; it has no file.
ENV_PROFILE = "env"
CONFIG_FILE = "config.json"
PROFILES_DIR = "profiles.d"
#: ``cacheDir`` when config.json does not set it (node-triton etc/defaults.json).
DEFAULT_CACHE_DIR = "cache"

#: Every key a profile may have, as node-triton spells them (lib/config.js PROFILE_FIELDS).
PROFILE_FIELDS = ("name", "url", "account", "keyId", "insecure", "user", "roles", "actAsAccount")
_REQUIRED = ("url", "account", "keyId")
_ATTRS = {
    "name": "name",
    "url": "url",
    "account": "account",
    "keyId": "key_id",
    "insecure": "insecure",
    "user": "user",
    "roles": "roles",
    "actAsAccount": "act_as_account",
}

#: The rule triton's interactive ``profile create`` applies to new names.
_STRICT_NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")

#: What each required field is, its flag, and the variables the ``env`` profile reads for it.
_REQUIRED_HELP = {
    "url": ("CloudAPI URL", "-U/--url URL", ("TRITON_URL", "SDC_URL")),
    "account": ("account", "-a/--account ACCOUNT", ("TRITON_ACCOUNT", "SDC_ACCOUNT")),
    "keyId": ("SSH key fingerprint", "-k/--keyId FINGERPRINT", ("TRITON_KEY_ID", "SDC_KEY_ID")),
}

#: The source of a value that was set by nothing.
NOT_SET = "not set"
DEFAULT = "default"


# --- small helpers ---------------------------------------------------------------------------


def _js(value: Any) -> str:
    """A value as JSON, for error messages."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _reject_constant(name: str) -> Any:
    # JSON.parse has no NaN/Infinity; refuse them so both tools accept the same files.
    raise ValueError(f"invalid JSON value {name}")


def _parse_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _dump_json(data: Any) -> str:
    # Same bytes as node's JSON.stringify(data, null, 4): ", " / ": " separators, raw UTF-8,
    # and no final newline.
    return json.dumps(data, indent=4, ensure_ascii=False)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A symlinked file is replaced at its target. An existing file keeps its permission bits;
    a new one gets 0666 less the umask, as node's ``fs.writeFile`` would give it.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _js_str(value: Any) -> str:
    """``value`` as node's ``util.format('%s')`` shows it, for the plain JSON types."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return _js(value)


def parse_roles(values: Iterable[str]) -> list[str]:
    """Roles from ``-r`` values: each is a comma-separated list; blanks are dropped.

    ``-r a,b -r c`` gives ``["a", "b", "c"]`` (node-triton lib/cli.js arrayOfCommaSepString).
    """
    roles: list[str] = []
    for value in values:
        roles.extend(part for part in re.split(r"\s*,\s*", value.strip()) if part)
    return roles


def check_profile_name(name: str, *, strict: bool = False) -> None:
    """Raise :class:`ConfigError` if ``name`` cannot name a profile file.

    Any name that is a plain file name is accepted, as ``triton profile create -f`` accepts
    it. With ``strict``, the rule of triton's interactive ``profile create`` applies too: a
    lowercase letter, then lowercase letters, digits, ``_``, ``.`` and ``-``.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError("invalid profile name: a profile name cannot be empty")
    seps = {"/", "\0", os.sep} | ({os.altsep} if os.altsep else set())
    bad = sorted(c for c in seps if c in name)
    if bad:
        shown = " or ".join(_js(c) for c in bad)
        raise ConfigError(f"invalid profile name {_js(name)}: it cannot contain {shown}")
    if name in (".", ".."):
        raise ConfigError(f"invalid profile name {_js(name)}: it is not a usable file name")
    if strict and not _STRICT_NAME_RE.match(name):
        raise ConfigError(
            f"invalid profile name {_js(name)}: it must start with a lowercase letter followed "
            'by lowercase letters, numbers and "_", "." and "-"'
        )


# --- the config directory and config.json ------------------------------------------------------


def config_dir(env: Mapping[str, str], *, platform: str | None = None) -> Path:
    """The directory holding ``config.json`` and ``profiles.d`` (node-triton lib/constants.js).

    ``TRITONTEST_CLI_CONFIG_DIR`` (node-triton's test override) wins; then, on Windows,
    ``%APPDATA%\\Joyent\\Triton``; then ``$XDG_CONFIG_HOME/triton`` if that is set and not
    empty; else ``$HOME/.triton``.
    """
    platform = sys.platform if platform is None else platform
    override = env.get("TRITONTEST_CLI_CONFIG_DIR")
    if override:
        return Path(os.path.abspath(override))
    if platform == "win32":
        appdata = env.get("APPDATA")
        if not appdata:
            raise ConfigError("cannot find the config directory: APPDATA is not set")
        return Path(os.path.abspath(os.path.join(appdata, "Joyent", "Triton")))
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(os.path.abspath(os.path.join(xdg, "triton")))
    home = env.get("HOME")
    if not home:
        raise ConfigError(
            "cannot find the config directory: neither HOME nor XDG_CONFIG_HOME is set"
        )
    return Path(os.path.abspath(os.path.join(home, ".triton")))


class CliConfig(Record):
    """The contents of ``config.json``.

    Attributes:
        config_dir: the directory it lives in.
        profile: the current profile's name, or ``None``.
        old_profile: the previous current profile (``oldProfile``), or ``None``.
        cache_dir: ``cacheDir`` as written (relative paths are under ``config_dir``).
        data: every key of the file as read (empty when there is no file); triton accepts
            unknown keys here and so do we, keeping them when the file is rewritten.
    """

    __slots__ = ("cache_dir", "config_dir", "data", "old_profile", "profile")
    config_dir: Path
    profile: str | None
    old_profile: str | None
    cache_dir: str
    data: Mapping[str, Any]

    def __init__(
        self,
        config_dir: Path,
        profile: str | None = None,
        old_profile: str | None = None,
        cache_dir: str = DEFAULT_CACHE_DIR,
        data: Mapping[str, Any] = MappingProxyType({}),
    ) -> None:
        self.config_dir = config_dir
        self.profile = profile
        self.old_profile = old_profile
        self.cache_dir = cache_dir
        self.data = data

    @property
    def path(self) -> Path:
        """Where ``config.json`` is (whether or not it exists)."""
        return self.config_dir / CONFIG_FILE

    def profile_cache_dir(self, profile: Profile) -> Path:
        """The per-profile cache directory, as node-triton lib/tritonapi.js places it."""
        joined = os.path.join(self.config_dir, self.cache_dir, profile_slug(profile))
        return Path(os.path.normpath(joined))


def load_config(directory: Path) -> CliConfig:
    """Read ``directory/config.json``; a missing file is an empty config.

    Raises:
        ConfigError: the file is unreadable, is not JSON, is not an object, or one of
            ``profile``, ``oldProfile``, ``cacheDir`` is not a string.
    """
    directory = Path(directory)
    path = directory / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CliConfig(config_dir=directory)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f'cannot read "{path}": {exc}') from None
    try:
        data = _parse_json(text)
    except ValueError as exc:
        raise ConfigError(f'"{path}" is invalid JSON: {exc}') from None
    if not isinstance(data, dict):
        raise ConfigError(f'"{path}" is not an object')
    for key in ("profile", "oldProfile", "cacheDir"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f'"{key}" in "{path}" must be a string, not {_js(value)}')
    return CliConfig(
        config_dir=directory,
        profile=data.get("profile") or None,
        old_profile=data.get("oldProfile"),
        cache_dir=data.get("cacheDir") or DEFAULT_CACHE_DIR,
        data=data,
    )


def _set_config_vars(directory: Path, profile: str) -> None:
    """Set ``profile`` in config.json, moving the previous one to ``oldProfile``.

    As node-triton lib/config.js setConfigVars: other keys are kept in their order, and
    ``oldProfile`` is only written when there was a current profile.
    """
    data = dict(load_config(directory).data)
    previous = data.get("profile")
    data["profile"] = profile
    if previous:
        data["oldProfile"] = previous
    _write_atomic(Path(directory) / CONFIG_FILE, _dump_json(data))


class CurrentProfileChange(Record):
    """What :func:`set_current_profile` did: ``name`` is the profile now current, and
    ``changed`` is false when it already was (nothing was written)."""

    __slots__ = ("changed", "name")
    name: str
    changed: bool

    def __init__(
        self,
        name: str,
        changed: bool,
    ) -> None:
        self.name = name
        self.changed = changed


def set_current_profile(
    directory: Path,
    name: str,
    env: Mapping[str, str],
    *,
    current: str | None = None,
) -> CurrentProfileChange:
    """Make ``name`` the current profile, as ``triton profile set-current NAME`` does.

    ``-`` means the previous current profile (``oldProfile``). The profile must load
    (the ``env`` one needs its variables in ``env``). ``current`` is the name of the profile
    in effect right now (which ``-p`` or ``TRITON_PROFILE`` may have chosen); when it is
    already ``name``, nothing is written.
    """
    directory = Path(directory)
    if name == "-":
        config = load_config(directory)
        if "oldProfile" not in config.data:
            raise ConfigError(
                f'"oldProfile" is not set in config ({config.path}): there is no previous '
                "profile to switch back to"
            )
        name = config.data["oldProfile"]
    profile = load_profile(directory, name, env)
    if current is not None and current == profile.name:
        return CurrentProfileChange(profile.name, changed=False)
    _set_config_vars(directory, profile.name)
    return CurrentProfileChange(profile.name, changed=True)


# --- profiles ----------------------------------------------------------------------------------


class ProfileNotFoundError(ConfigError):
    """No profile file has that name."""


class Profile(Record):
    """One profile: what is needed to talk to one CloudAPI as one account.

    Optional fields are ``None`` when the profile does not set them. ``path`` is the file it
    was read from (``None`` for the ``env`` profile or one not yet saved). ``field_order``
    remembers the order of the keys as read, so a profile written back keeps its layout and
    ``triton_dict`` matches what triton prints for ``profile get -j``.
    """

    __slots__ = (
        "account",
        "act_as_account",
        "field_order",
        "insecure",
        "key_id",
        "name",
        "path",
        "roles",
        "url",
        "user",
    )
    name: str
    url: str
    account: str
    key_id: str
    insecure: bool | None
    user: str | None
    roles: tuple[str, ...] | None
    act_as_account: str | None
    path: Path | None
    field_order: tuple[str, ...]

    def __init__(
        self,
        name: str,
        url: str,
        account: str,
        key_id: str,
        insecure: bool | None = None,
        user: str | None = None,
        roles: tuple[str, ...] | None = None,
        act_as_account: str | None = None,
        path: Path | None = None,
        field_order: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.url = url
        self.account = account
        self.key_id = key_id
        self.insecure = insecure
        self.user = user
        self.roles = roles
        self.act_as_account = act_as_account
        self.path = path
        self.field_order = field_order

    # Two profiles are equal when their settings are: where they were read from and the
    # order of their keys do not count.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self._settings() == other._settings()

    def __hash__(self) -> int:
        return hash(self._settings())

    def _settings(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.url,
            self.account,
            self.key_id,
            self.insecure,
            self.user,
            self.roles,
            self.act_as_account,
        )

    def triton_dict(self, *, include_name: bool = True) -> dict[str, Any]:
        """The profile with triton's key names (``keyId``, ``actAsAccount`` ...), unset ones
        left out, in the order read (new keys after, in ``PROFILE_FIELDS`` order)."""
        values: dict[str, Any] = {}
        order = [k for k in self.field_order if k in _ATTRS]
        order += [k for k in PROFILE_FIELDS if k not in order]
        for key in order:
            if key == "name" and not include_name:
                continue
            value = getattr(self, _ATTRS[key])
            if value is not None:
                values[key] = list(value) if key == "roles" else value
        return values


def _validate(data: Mapping[str, Any], origin: str | None, path: Path | None) -> Profile:
    """Check a profile the way node-triton lib/config.js validateProfile does, and build it.

    ``origin`` (a file path, or "environment variables") is named in error messages.
    """
    name = data.get("name")
    is_env = name == ENV_PROFILE
    label = f'"{name}" ' if name else ""
    prefix = f"invalid {label}profile" + (f" from {origin}" if origin else "")

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{prefix}: {message}")

    if name is None:
        raise fail('"name" is missing')
    if not isinstance(name, str):
        raise fail(f'"name" must be a string, not {_js(name)}')
    for key in _REQUIRED:
        what = " or ".join(_REQUIRED_HELP[key][2]) if is_env else f'"{key}"'
        value = data.get(key)
        if value is None:
            raise fail(f"{what} is missing")
        if not isinstance(value, str):
            raise fail(f"{what} must be a string, not {_js(value)}")
    insecure = data.get("insecure")
    if insecure is not None and not isinstance(insecure, bool):
        raise fail(f'"insecure" must be true or false, not {_js(insecure)}')
    for key in ("user", "actAsAccount"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(f'"{key}" must be a string, not {_js(value)}')
    roles = data.get("roles")
    if roles is not None and (
        not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)
    ):
        raise fail(f'"roles" must be an array of strings, not {_js(roles)}')

    bogus = [key for key in data if key not in _ATTRS]
    if bogus:
        where = f"{origin}: " if origin else ""
        raise ConfigError(f'extraneous fields in "{name}" profile: {where}{", ".join(bogus)}')

    return Profile(
        name=name,
        url=data["url"],
        account=data["account"],
        key_id=data["keyId"],
        insecure=insecure,
        user=data.get("user"),
        roles=tuple(roles) if roles is not None else None,
        act_as_account=data.get("actAsAccount"),
        path=path,
        field_order=tuple(k for k, v in data.items() if v is not None),
    )


def _profile_path(directory: Path, name: str) -> Path:
    check_profile_name(name)
    return Path(directory) / PROFILES_DIR / f"{name}.json"


def _read_profile_file(path: Path, name: str) -> dict[str, Any]:
    """A profile file's keys, with ``name`` added (node-triton lib/config.js
    _profileFromPath)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileNotFoundError(f"no such profile: {name}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f'error in "{name}" profile: {path}: {exc}') from None
    try:
        data = _parse_json(text)
    except ValueError as exc:
        raise ConfigError(f'error in "{name}" profile: {path}: invalid JSON: {exc}') from None
    if not isinstance(data, dict):
        raise ConfigError(f'error in "{name}" profile: {path}: not a JSON object')
    if data.get("name"):
        raise ConfigError(f'error in "{name}" profile: {path}: file must not include "name" field')
    data["name"] = name
    return data


def _bool_from_env(value: str, variable: str) -> bool:
    # node-triton lib/common.js boolFromString
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ConfigError(
        f"invalid boolean value for {variable}: {_js(value)} (use true, false, 1 or 0)"
    )


def _env_profile_data(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``env`` profile's keys (``None`` where unset) and where each value came from.

    Key order follows node-triton lib/config.js _loadEnvProfile, so ``triton_dict`` lists
    them as triton does.
    """
    data: dict[str, Any] = {"name": ENV_PROFILE}
    sources: dict[str, str] = {}

    def pick(key: str, names: Sequence[str], always: bool) -> None:
        for variable in names:
            value = env.get(variable)
            if value:
                data[key] = value
                sources[key] = f"{variable} environment variable"
                return
        if always:
            data[key] = None

    pick("account", ("TRITON_ACCOUNT", "SDC_ACCOUNT"), True)
    pick("user", ("TRITON_USER", "SDC_USER"), False)
    pick("url", ("TRITON_URL", "SDC_URL"), True)
    pick("keyId", ("TRITON_KEY_ID", "SDC_KEY_ID"), True)
    pick("actAsAccount", ("TRITON_ACT_AS",), False)
    for variable in ("TRITON_TLS_INSECURE", "SDC_TLS_INSECURE"):
        value = env.get(variable)
        if value:
            data["insecure"] = _bool_from_env(value, variable)
            sources["insecure"] = f"{variable} environment variable"
            break
    else:
        if env.get("SDC_TESTING"):
            # the old smartdc tools' rule: any non-empty value turns verification off
            data["insecure"] = True
            sources["insecure"] = "SDC_TESTING environment variable"
    return data, sources


def _missing(data: Mapping[str, Any]) -> list[str]:
    return [key for key in _REQUIRED if data.get(key) is None or data.get(key) == ""]


def _env_missing_message(missing: Sequence[str], *, with_flags: bool, defaulted: bool) -> str:
    labels = [_REQUIRED_HELP[key][0] for key in missing]
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    lines = [
        'could not load "env" profile (missing TRITON_*, or SDC_*, environment variables): '
        f"no {names}"
    ]
    for key in missing:
        what, flag, (triton_var, sdc_var) = _REQUIRED_HELP[key]
        how = f"use {flag}, or set {triton_var}" if with_flags else f"set {triton_var}"
        lines.append(f"    {what}: {how} (or {sdc_var})")
    if defaulted:
        lines += [
            "    No profile information could be loaded.",
            '    Use "smartdc profile create" to create a profile, or give the values above',
            '    (see "smartdc --help").',
        ]
    return "\n".join(lines)


def _file_missing_message(name: str, path: Path, missing: Sequence[str]) -> str:
    fields = ", ".join(f'"{key}"' for key in missing)
    lines = [f'invalid "{name}" profile from {path}: missing {fields}']
    for key in missing:
        what, flag, _ = _REQUIRED_HELP[key]
        lines.append(f'    {what}: add "{key}" to {path}, or use {flag}')
    return "\n".join(lines)


def _load_env_profile(env: Mapping[str, str], overrides: Mapping[str, Any]) -> Profile | None:
    data, _ = _env_profile_data(env)
    data.update(overrides)
    if _missing(data):
        return None
    return _validate(data, "environment variables", None)


def load_profile(directory: Path, name: str, env: Mapping[str, str]) -> Profile:
    """Load one profile: ``env`` from the environment variables, others from their file.

    Raises:
        ProfileNotFoundError: there is no ``profiles.d/NAME.json``.
        ConfigError: the profile is invalid, or ``env`` lacks a required variable.
    """
    if name == ENV_PROFILE:
        data, _ = _env_profile_data(env)
        missing = _missing(data)
        if missing:
            raise ConfigError(_env_missing_message(missing, with_flags=False, defaulted=False))
        return _validate(data, "environment variables", None)
    path = _profile_path(directory, name)
    return _validate(_read_profile_file(path, name), str(path), path)


def list_profiles(
    directory: Path,
    env: Mapping[str, str],
    *,
    options: GlobalOptions | None = None,
    on_error: Callable[[Path, ConfigError], None] | None = None,
) -> list[Profile]:
    """Every loadable profile: ``env`` first (when its variables are set), then the files of
    ``profiles.d`` in name order.

    As node-triton lib/config.js loadAllProfiles: invalid files are skipped (``on_error`` is
    told about each), as is any ``env.json`` (the name is reserved, in any case); the command
    line ``options`` apply to the ``env`` profile only.
    """
    profiles: list[Profile] = []
    overrides, _ = _overrides(options or GlobalOptions(), env)
    env_profile = _load_env_profile(env, overrides)
    if env_profile is not None:
        profiles.append(env_profile)
    folder = Path(directory) / PROFILES_DIR
    try:
        entries = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return profiles
    except OSError as exc:
        raise ConfigError(f'cannot list profiles in "{folder}": {exc}') from None
    for entry in entries:
        path = folder / entry
        if path.suffix != ".json":
            continue
        name = path.stem
        if name.lower() == ENV_PROFILE:
            if on_error is not None:
                on_error(path, ConfigError(f'invalid "env" profile: {path}: skipping'))
            continue
        try:
            profiles.append(_validate(_read_profile_file(path, name), str(path), path))
        except ConfigError as exc:
            if on_error is not None:
                on_error(path, exc)
    return profiles


def save_profile(directory: Path, profile: Profile) -> Path:
    """Write ``profile`` to ``profiles.d/NAME.json`` (replacing any file there).

    Returns the path written. Raises :class:`ConfigError` for the ``env`` profile (it has no
    file), a name that cannot be a file name, or a field of the wrong type.
    """
    if profile.name == ENV_PROFILE:
        raise ConfigError('cannot save "env" profile: it is made from environment variables')
    path = _profile_path(directory, profile.name)
    _validate(profile.triton_dict(), None, None)
    _write_atomic(path, _dump_json(profile.triton_dict(include_name=False)))
    return path


def delete_profile(directory: Path, name: str) -> Path:
    """Remove ``profiles.d/NAME.json``; returns its path.

    Unlike triton, a profile whose file is invalid can be deleted too. Switching the current
    profile away from a deleted one is the caller's business (triton switches to ``env``).
    """
    if name == ENV_PROFILE:
        raise ConfigError('cannot delete "env" profile: it is made from environment variables')
    path = _profile_path(directory, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise ProfileNotFoundError(f"no such profile: {name}") from None
    except OSError as exc:
        raise ConfigError(f'cannot delete "{name}" profile: {path}: {exc}') from None
    return path


def profile_slug(profile: Profile) -> str:
    """The profile's directory name under the cache and docker dirs (node-triton
    lib/common.js profileSlug), e.g. ``bob@us-central-1.api.mnx.io``."""
    account = (profile.act_as_account or profile.account).replace("@", "_")
    url = re.sub(r"^https?://", "", profile.url)
    if profile.user:
        slug = f"{profile.user.replace('@', '_')}-{account}@{url}"
    else:
        slug = f"{account}@{url}"
    return re.sub(r"[!#$%^&*:'\"?/\\.]", "_", slug)


# --- profile create, without the prompts --------------------------------------------------------


def parse_profile_json(text: str | bytes, source: str | None = None) -> Any:
    """Parse the JSON given to ``profile create -f FILE`` (``source`` is FILE, ``None`` for
    stdin)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return _parse_json(text)
    except ValueError as exc:
        where = f'in "{source}"' if source else "on stdin"
        raise ConfigError(f"invalid profile JSON {where}: {exc}") from None


def _not_an_object(data: Any, source: str | None) -> ConfigError:
    where = f" from {source}" if source else ""
    return ConfigError(f"invalid profile{where}: expected a JSON object, not {_js(data)}")


def profile_from_data(data: Any, source: str | None = None) -> Profile:
    """Build and validate a profile from ``profile create -f`` data (a JSON object with
    ``name``; a ``curr`` key, as ``profile get -j`` prints, is ignored)."""
    if not isinstance(data, Mapping):
        raise _not_an_object(data, source)
    return _validate({k: v for k, v in data.items() if k != "curr"}, source, None)


def profile_from_copy(base: Profile, data: Mapping[str, Any]) -> Profile:
    """``profile create --copy BASE``: every field of ``base`` except its name, with the
    given ``data`` (which must hold the new ``name``) on top.

    Fields are ordered as triton's ``--copy`` writes them: those it does not prompt for,
    then ``url``, ``account``, ``keyId``.
    """
    copied = base.triton_dict()
    merged: dict[str, Any] = {
        k: v for k, v in copied.items() if k not in ("name", *_REQUIRED) and k not in data
    }
    for key in ("name", *_REQUIRED):
        if key in data:
            merged[key] = data[key]
        elif key in copied and key != "name":
            merged[key] = copied[key]
    merged.update((k, v) for k, v in data.items() if k not in merged)
    return profile_from_data(merged)


class CreatedProfile(Record):
    """What :func:`create_profile` did: the profile saved, its file, and whether it became
    the current profile (it does when it is the only one)."""

    __slots__ = ("made_current", "path", "profile")
    profile: Profile
    path: Path
    made_current: bool

    def __init__(
        self,
        profile: Profile,
        path: Path,
        made_current: bool,
    ) -> None:
        self.profile = profile
        self.path = path
        self.made_current = made_current


def create_profile(
    directory: Path,
    data: Any,
    env: Mapping[str, str],
    *,
    source: str | None = None,
    copy: str | None = None,
) -> CreatedProfile:
    """``triton profile create -f FILE`` (or ``--copy PROFILE``) without prompting.

    ``data`` is the parsed JSON (see :func:`parse_profile_json`), ``source`` the file name
    for messages. The name must not be taken by a loadable profile (``env`` counts when its
    variables are set). When no other profile exists, the new one is made current.
    """
    existing = list_profiles(directory, env)
    if not isinstance(data, Mapping):
        raise _not_an_object(data, source)
    base: Profile | None = None
    if copy is not None:
        base = next((p for p in existing if p.name == copy), None)
        if base is None:
            raise ConfigError(f'no such profile from which to copy: "{copy}"')
    name = data.get("name")
    if any(p.name == name for p in existing):
        raise ConfigError(f'profile "{name}" already exists')
    profile = profile_from_copy(base, data) if base else profile_from_data(data, source)
    path = save_profile(directory, profile)
    if not existing:
        _set_config_vars(directory, profile.name)
    return CreatedProfile(profile.replace(path=path), path, made_current=not existing)


# --- resolving the settings of one command ---------------------------------------------------


class GlobalOptions(Record):
    """The global command-line options; ``None`` means not given.

    ``profile`` is ``-p``, ``url`` ``-U``, ``account`` ``-a``, ``user`` ``-u``, ``key_id``
    ``-k``, ``insecure`` ``-i``, ``roles`` ``-r`` (each value may be a comma list),
    ``act_as`` ``--act-as`` and ``ca_bundle`` ``--ca-bundle``.
    """

    __slots__ = (
        "account",
        "act_as",
        "ca_bundle",
        "insecure",
        "key_id",
        "profile",
        "roles",
        "url",
        "user",
    )
    profile: str | None
    url: str | None
    account: str | None
    user: str | None
    key_id: str | None
    insecure: bool | None
    roles: Sequence[str] | None
    act_as: str | None
    ca_bundle: str | None

    def __init__(
        self,
        profile: str | None = None,
        url: str | None = None,
        account: str | None = None,
        user: str | None = None,
        key_id: str | None = None,
        insecure: bool | None = None,
        roles: Sequence[str] | None = None,
        act_as: str | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.profile = profile
        self.url = url
        self.account = account
        self.user = user
        self.key_id = key_id
        self.insecure = insecure
        self.roles = roles
        self.act_as = act_as
        self.ca_bundle = ca_bundle


class Setting(Record):
    """One resolved value for ``profile show --sources``: its key (triton's spelling, or
    ``caBundle``), the value, and where it came from, e.g. ``"-U flag"``,
    ``"TRITON_URL environment variable"``, ``"profile 'prod' (/.../prod.json)"``,
    ``"default"`` or ``"not set"``."""

    __slots__ = ("key", "source", "value")
    key: str
    value: Any
    source: str

    def __init__(
        self,
        key: str,
        value: Any,
        source: str,
    ) -> None:
        self.key = key
        self.value = value
        self.source = source


#: Resolved attribute -> the key it is shown under.
_SETTING_KEYS = (
    ("profile_name", "profile"),
    ("url", "url"),
    ("account", "account"),
    ("key_id", "keyId"),
    ("user", "user"),
    ("roles", "roles"),
    ("act_as", "actAsAccount"),
    ("insecure", "insecure"),
    ("ca_bundle", "caBundle"),
)


class Resolved(Record):
    """The settings a command runs with, and where each came from.

    ``sources`` maps each attribute name (``url``, ``key_id``, ``act_as`` ...) to its source
    (see :class:`Setting`). ``profile`` is the profile in effect with the command-line
    options applied (what triton calls the current profile); ``config`` is config.json.
    """

    __slots__ = (
        "account",
        "act_as",
        "ca_bundle",
        "config",
        "insecure",
        "key_id",
        "profile",
        "profile_name",
        "roles",
        "sources",
        "url",
        "user",
    )
    profile_name: str
    url: str
    account: str
    key_id: str
    user: str | None
    roles: tuple[str, ...]
    act_as: str | None
    insecure: bool
    ca_bundle: str | None
    profile: Profile
    config: CliConfig
    sources: Mapping[str, str]

    def __init__(
        self,
        profile_name: str,
        url: str,
        account: str,
        key_id: str,
        user: str | None,
        roles: tuple[str, ...],
        act_as: str | None,
        insecure: bool,
        ca_bundle: str | None,
        profile: Profile,
        config: CliConfig,
        sources: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self.profile_name = profile_name
        self.url = url
        self.account = account
        self.key_id = key_id
        self.user = user
        self.roles = roles
        self.act_as = act_as
        self.insecure = insecure
        self.ca_bundle = ca_bundle
        self.profile = profile
        self.config = config
        self.sources = sources

    def source(self, name: str) -> str:
        """Where the attribute ``name`` came from."""
        return self.sources.get(name, NOT_SET)

    @property
    def cache_dir(self) -> Path:
        """This profile's cache directory."""
        return self.config.profile_cache_dir(self.profile)

    def settings(self) -> list[Setting]:
        """Every setting, in display order, for ``profile show --sources``."""
        return [Setting(key, getattr(self, attr), self.source(attr)) for attr, key in _SETTING_KEYS]


def _overrides(
    options: GlobalOptions, env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The profile keys the command line sets, in node-triton lib/cli.js _cliOptsAsProfile
    order, with their sources.

    ``TRITON_ROLE`` is the environment form of ``-r`` (a dashdash option env), so, unlike
    the other variables, it applies to every profile, not only ``env``.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(key: str, value: Any, source: str) -> None:
        values[key] = value
        sources[key] = source

    if options.account is not None:
        put("account", options.account, "-a flag")
    if options.user is not None:
        put("user", options.user, "-u flag")
    if options.roles is not None:
        put("roles", parse_roles(options.roles), "-r flag")
    elif "TRITON_ROLE" in env:
        put("roles", parse_roles([env["TRITON_ROLE"]]), "TRITON_ROLE environment variable")
    if options.url is not None:
        put("url", options.url, "-U flag")
    if options.key_id is not None:
        put("keyId", options.key_id, "-k flag")
    if options.insecure is not None:
        put("insecure", bool(options.insecure), "-i flag")
    if options.act_as is not None:
        put("actAsAccount", options.act_as, "--act-as flag")
    return values, sources


def _choose_profile_name(
    options: GlobalOptions, env: Mapping[str, str], config: CliConfig
) -> tuple[str, str, bool]:
    """The profile name, its source, and whether it fell back to ``env`` by default.

    ``-p``, else ``TRITON_PROFILE``, else config.json's ``profile``, else ``env``; an empty
    value counts as none (node-triton lib/cli.js profileName).
    """
    given: str | None
    if options.profile is not None:
        given, source = options.profile, "-p flag"
    else:
        given, source = env.get("TRITON_PROFILE"), "TRITON_PROFILE environment variable"
    if given:
        return given, source, False
    if config.profile:
        return config.profile, f"config.json ({config.path})", False
    return ENV_PROFILE, DEFAULT, True


def _ca_bundle(options: GlobalOptions, env: Mapping[str, str]) -> tuple[str | None, str]:
    if options.ca_bundle is not None:
        return options.ca_bundle or None, "--ca-bundle flag"
    for variable in ("TRITON_CA_BUNDLE", "SSL_CERT_FILE"):
        value = env.get(variable)
        if value:
            return value, f"{variable} environment variable"
    return None, NOT_SET


def resolve(options: GlobalOptions, env: Mapping[str, str], directory: Path) -> Resolved:
    """Work out the settings for a command from flags, environment and config files.

    The profile is chosen by ``-p``, ``TRITON_PROFILE``, config.json, or is ``env``. Each
    flag replaces the profile's value. ``TRITON_URL``, ``SDC_ACCOUNT`` and the like only
    feed the ``env`` profile: they do not change a named one (as in triton).
    ``TRITON_ROLE`` acts like ``-r`` for any profile. The CA bundle is ours alone: from
    ``--ca-bundle``, ``TRITON_CA_BUNDLE`` or ``SSL_CERT_FILE``, never from a profile.

    Raises:
        ConfigError: no usable profile: one of URL, account and key id is missing, the named
            profile does not exist (:class:`ProfileNotFoundError`), or a file is invalid.
    """
    directory = Path(directory)
    config = load_config(directory)
    name, name_source, defaulted = _choose_profile_name(options, env, config)
    overrides, override_sources = _overrides(options, env)

    if name == ENV_PROFILE:
        data, sources = _env_profile_data(env)
        data.update(overrides)
        sources.update(override_sources)
        missing = _missing(data)
        if missing:
            raise ConfigError(_env_missing_message(missing, with_flags=True, defaulted=defaulted))
        profile = _validate(data, "environment variables", None)
    else:
        path = _profile_path(directory, name)
        try:
            data = _read_profile_file(path, name)
        except ProfileNotFoundError:
            raise ProfileNotFoundError(
                f"no such profile: {name} (from {name_source})\n"
                '    See "smartdc profile list", or create it with "smartdc profile create".'
            ) from None
        origin = f"profile '{name}' ({path})"
        sources = {k: origin for k, v in data.items() if v is not None and k != "name"}
        data.update(overrides)
        sources.update(override_sources)
        missing = _missing(data)
        if missing:
            raise ConfigError(_file_missing_message(name, path, missing))
        profile = _validate(data, str(path), path)

    ca_bundle, ca_source = _ca_bundle(options, env)
    return Resolved(
        profile_name=profile.name,
        url=profile.url,
        account=profile.account,
        key_id=profile.key_id,
        user=profile.user or None,
        roles=profile.roles or (),
        act_as=profile.act_as_account or None,
        insecure=bool(profile.insecure),
        ca_bundle=ca_bundle,
        profile=profile,
        config=config,
        sources={
            "profile_name": name_source,
            "url": sources.get("url", NOT_SET),
            "account": sources.get("account", NOT_SET),
            "key_id": sources.get("keyId", NOT_SET),
            "user": sources.get("user", NOT_SET),
            "roles": sources.get("roles", NOT_SET),
            "act_as": sources.get("actAsAccount", NOT_SET),
            "insecure": sources.get("insecure", DEFAULT),
            "ca_bundle": ca_source,
        },
    )


# --- smartdc env --------------------------------------------------------------------------------

_TRITON_UNSET = (
    "TRITON_PROFILE",
    "TRITON_URL",
    "TRITON_ACCOUNT",
    "TRITON_USER",
    "TRITON_KEY_ID",
    "TRITON_TLS_INSECURE",
)
_DOCKER_UNSET = ("DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "COMPOSE_HTTP_TIMEOUT")
_SMARTDC_UNSET = ("SDC_URL", "SDC_ACCOUNT", "SDC_USER", "SDC_KEY_ID", "SDC_TESTING")


def _docker_env(directory: Path, profile: Profile) -> dict[str, Any] | None:
    """The ``env`` of ``docker/SLUG/setup.json`` (written by ``profile docker-setup``)."""
    path = Path(directory) / "docker" / profile_slug(profile) / "setup.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f'error determining Docker environment from "{path}": {exc}') from None
    try:
        setup = _parse_json(text)
    except ValueError as exc:
        raise ConfigError(
            f'error determining Docker environment from "{path}": invalid JSON: {exc}'
        ) from None
    found = setup.get("env") if isinstance(setup, dict) else None
    if not isinstance(found, dict):
        raise ConfigError(
            f'error determining Docker environment from "{path}": no "env" object in it'
        )
    return found


def env_lines(
    profile: Profile,
    directory: Path,
    *,
    triton: bool = False,
    docker: bool = False,
    smartdc: bool = False,
    unset: bool = False,
    is_current: bool = True,
    program: str = "smartdc",
) -> list[str]:
    """The lines ``env [PROFILE] [-t] [-d] [-s] [-u]`` prints, as node-triton lib/do_env.js.

    With none of ``triton``/``docker``/``smartdc``, all three sections are printed. Pass the
    current profile with the command-line options applied (``Resolved.profile``) when it is
    the one asked for; ``is_current`` false adds its name to the closing ``eval`` hint.
    The docker section reads ``docker/SLUG/setup.json`` in ``directory``; without it the
    section is empty, or an error when ``docker`` was asked for explicitly.
    """
    explicit = triton or docker or smartdc
    kinds = [k for k, on in (("triton", triton), ("docker", docker), ("smartdc", smartdc)) if on]
    if not explicit:
        kinds = ["triton", "docker", "smartdc"]
    letters = "".join(
        letter for letter, on in (("t", triton), ("d", docker), ("s", smartdc), ("u", unset)) if on
    )
    docker_env = _docker_env(directory, profile) if "docker" in kinds else None
    if docker and docker_env is None and not unset:
        raise ConfigError(
            f'could not find Docker environment setup for profile "{profile.name}":\n'
            f"    Run `{program} profile docker-setup {profile.name}` to setup."
        )

    lines: list[str] = []
    for kind in kinds:
        lines.append(f"# {kind}")
        if kind == "triton":
            if unset:
                lines += [f"unset {name}" for name in _TRITON_UNSET]
            else:
                lines.append(f'export TRITON_PROFILE="{profile.name}"')
        elif kind == "docker":
            if docker_env is not None:
                for key, value in docker_env.items():
                    if unset or value is None:
                        lines.append(f"unset {key}")
                    else:
                        lines.append(f"export {key}={_js_str(value)}")
            elif unset:
                lines += [f"unset {name}" for name in _DOCKER_UNSET]
        elif unset:
            lines += [f"unset {name}" for name in _SMARTDC_UNSET]
        else:
            lines.append(f'export SDC_URL="{profile.url}"')
            lines.append(f'export SDC_ACCOUNT="{profile.account}"')
            if profile.user:
                lines.append(f'export SDC_USER="{profile.user}"')
            else:
                lines.append("unset SDC_USER")
            lines.append(f'export SDC_KEY_ID="{profile.key_id}"')
            if profile.insecure:
                lines.append('export SDC_TESTING="true"')
            else:
                lines.append("unset SDC_TESTING")
    flags = f" -{letters}" if letters else ""
    name = "" if is_current else f" {profile.name}"
    lines.append("# Run this command to configure your shell:")
    lines.append(f'#     eval "$({program} env{flags}{name})"')
    return lines


def env_text(
    profile: Profile,
    directory: Path,
    *,
    triton: bool = False,
    docker: bool = False,
    smartdc: bool = False,
    unset: bool = False,
    is_current: bool = True,
    program: str = "smartdc",
) -> str:
    """:func:`env_lines` as the text printed, one line each with a newline after."""
    lines = env_lines(
        profile,
        directory,
        triton=triton,
        docker=docker,
        smartdc=smartdc,
        unset=unset,
        is_current=is_current,
        program=program,
    )
    return "".join(line + "\n" for line in lines)
