"""What a running command works with: its streams, the resolved settings and the client.

Settings and the client are made on first use, so commands that need neither (``profile
list``, ``completion``) never read a key or open a socket.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.cli.config import GlobalOptions, Resolved


class Streams:
    """Where a command reads and writes; the process's own unless a test passes others."""

    __slots__ = ("stderr", "stdin", "stdout")

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.stdin: TextIO = stdin if stdin is not None else sys.stdin
        self.stdout: TextIO = stdout if stdout is not None else sys.stdout
        self.stderr: TextIO = stderr if stderr is not None else sys.stderr


class Context:
    """One command run: ``prog`` (``smartdc instance list``), flags, streams, settings, client."""

    def __init__(
        self,
        prog: str,
        options: GlobalOptions,
        *,
        verbose: bool = False,
        streams: Streams | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.prog = prog
        self.options = options
        self.verbose = verbose
        self.streams = streams or Streams()
        self.env: Mapping[str, str] = os.environ if env is None else env
        self._api: CloudAPI | None = None

    # --- output ---------------------------------------------------------------------------

    def out(self, text: str = "") -> None:
        """Write ``text`` and a newline to standard output."""
        self.streams.stdout.write(text + "\n")

    def write(self, text: str) -> None:
        """Write ``text`` as it is to standard output."""
        self.streams.stdout.write(text)

    def err(self, text: str) -> None:
        """Write ``text`` and a newline to standard error."""
        self.streams.stderr.write(text + "\n")
        self.streams.stderr.flush()

    def trace(self, text: str) -> None:
        """A ``-v`` line on standard error (never pass it a secret)."""
        if self.verbose:
            self.err(f"smartdc: {text}")

    @property
    def interactive(self) -> bool:
        """Standard error is a terminal, so live progress may be drawn there."""
        return _isatty(self.streams.stderr)

    @property
    def stdin_interactive(self) -> bool:
        """Standard input is a terminal, so the user can be asked."""
        return _isatty(self.streams.stdin)

    # --- settings and client --------------------------------------------------------------

    @cached_property
    def config_dir(self) -> Path:
        """The triton configuration directory (``~/.triton``)."""
        from smartdc.cli.config import config_dir

        return config_dir(self.env)

    @cached_property
    def settings(self) -> Resolved:
        """The profile and flags, resolved (raises ConfigError when incomplete)."""
        from smartdc.cli.config import resolve

        return resolve(self.options, self.env, self.config_dir)

    @property
    def api(self) -> CloudAPI:
        """The signed client for the resolved settings, made on first use."""
        if self._api is None:
            self._api = self._make_api()
        return self._api

    def _make_api(self) -> CloudAPI:
        from smartdc._socket_sender import SocketSender
        from smartdc.api import CloudAPI, prompt_passphrase

        settings = self.settings
        verify: bool | str = False if settings.insecure else settings.ca_bundle or True
        self.trace(
            f"profile {settings.profile_name!r}: url={settings.url} account={settings.account}"
            + (f" user={settings.user}" if settings.user else "")
            + f" keyId={settings.key_id}"
        )
        api = CloudAPI(
            settings.url,
            settings.account,
            key_id=settings.key_id,
            user=settings.user,
            act_as=settings.act_as,
            roles=settings.roles,
            passphrase=prompt_passphrase if self.stdin_interactive else None,
            sender=SocketSender(settings.url, verify=verify),
            debug=self.streams.stderr if self.verbose else False,
        )
        self.trace(f"signing as {api.key_id} with {api.signer!r}")
        return api

    def close(self) -> None:
        """Release the client's connection."""
        if self._api is not None:
            self._api.close()
            self._api = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
