"""Telling the other worker processes of one data directory that a write committed.

With ``--workers``, several processes serve one SQLite database. Each wakes its scheduler
and its changefeed sessions on its own commits (:meth:`Database.add_commit_listener`);
for the others' commits each worker has a bell: a UNIX datagram socket in
``<data dir>/.bells/``. After every commit a worker rings the other bells (one datagram
each, never waiting); a worker that hears its bell runs its commit listeners as if the
commit had been its own, so a machine provisioned through one worker reaches a changefeed
held open by another within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path

from smartdc.emulator.db import Database

#: Where the bells of a data directory hang.
BELLS_DIRECTORY = ".bells"
#: Seconds a listing of the other bells is trusted before the directory is read again.
PEERS_TTL = 1.0


class CommitBell:
    """This process's bell, rung by the others' commits, ringing theirs on its own."""

    def __init__(self, data_dir: Path, db: Database) -> None:
        self._directory = data_dir / BELLS_DIRECTORY
        self._directory.mkdir(exist_ok=True)
        self._path = self._directory / f"{os.getpid()}.sock"
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # left by an earlier process with this pid
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(self._path))
        self._socket.setblocking(False)
        self._db = db
        self._peers: list[str] = []
        self._peers_read = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        db.add_commit_listener(self.ring)

    def ring(self) -> None:
        """Tell every other worker that a transaction committed here."""
        now = time.monotonic()
        if now - self._peers_read > PEERS_TTL:
            self._peers = [
                str(path) for path in self._directory.glob("*.sock") if path != self._path
            ]
            self._peers_read = now
        for peer in self._peers:
            # A full queue (the peer is already due to wake) or a gone peer: nothing to do.
            with contextlib.suppress(BlockingIOError, ConnectionRefusedError, FileNotFoundError):
                self._socket.sendto(b"!", peer)

    def listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hear the bell on ``loop`` (the process's serving loop)."""
        self._loop = loop
        loop.add_reader(self._socket.fileno(), self._heard)

    def _heard(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._socket.recv(64):
                pass
        self._db.announce_commit(skip=self.ring)

    def close(self) -> None:
        """Stop ringing and listening; take the bell down."""
        self._db.remove_commit_listener(self.ring)
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(ValueError, RuntimeError):
                self._loop.remove_reader(self._socket.fileno())
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
