"""Turning the user's key options into a signer and a full keyId."""

from __future__ import annotations

import os
import sys

from smartdc import errors
from smartdc.auth.keyid import KeyId, parse_key_id
from smartdc.auth.keys import Passphrase, is_fingerprint
from smartdc.auth.signers import Signer, make_signer


def expand_key_id(key_id: str, account: str, user: str | None) -> str:
    """A full keyId from a full one, a bare fingerprint (MD5 or SHA256) or a key name."""
    if not key_id or not key_id.strip():
        raise errors.ConfigError("key_id is empty")
    key_id = key_id.strip()
    if key_id.startswith("/"):
        try:
            parsed = parse_key_id(key_id)
        except ValueError as exc:
            raise errors.ConfigError(f"key_id: {exc}") from None
        _check_fingerprint_shape(parsed.key, key_id)
        if user is not None and parsed.user != user:
            raise errors.ConfigError(
                f"key_id {key_id!r} does not belong to user {user!r}; give a bare key name or "
                "fingerprint to have the user's keyId built"
            )
        return str(parsed)
    if "/" in key_id and not is_fingerprint(key_id):
        raise errors.ConfigError(
            f"key_id {key_id!r} is neither a full keyId (/<account>/keys/<key>), "
            "a fingerprint nor a key name"
        )
    _check_fingerprint_shape(key_id, key_id)
    return str(KeyId(account=account, key=key_id, user=user))


def _check_fingerprint_shape(key: str, key_id: str) -> None:
    """Refuse a key part that announces a fingerprint (``MD5:``, ``SHA256:``) but is not one,
    which the server would only answer with a bare 401."""
    if key.upper().startswith(("MD5:", "SHA256:")) and not is_fingerprint(key):
        raise errors.ConfigError(
            f"key_id {key_id!r}: {key!r} is not a valid fingerprint; expected MD5:<16 "
            "colon-separated hex pairs> or SHA256:<43 base64 characters>, as "
            "`ssh-keygen -l -E md5 -f <key>.pub` or `ssh-keygen -l -f <key>.pub` print them"
        )


def resolve_credentials(
    account: str,
    *,
    key_id: str | None,
    signer: Signer | None,
    key_file: str | os.PathLike[str] | None,
    passphrase: Passphrase,
    allow_agent: bool,
    user: str | None,
) -> tuple[Signer, str]:
    """The signer to use and the full keyId it signs for.

    With ``signer`` and no ``key_id`` the keyId is built from the signer's MD5 fingerprint;
    otherwise the signer is found from ``key_id``/``key_file``/the agent by ``make_signer``.
    """
    full_key_id = expand_key_id(key_id, account, user) if key_id is not None else None
    if signer is None:
        try:
            signer = make_signer(
                full_key_id, key_file=key_file, passphrase=passphrase, allow_agent=allow_agent
            )
        except errors.PassphraseRequiredError as exc:
            if passphrase is not None:
                raise
            raise errors.PassphraseRequiredError(
                f"{exc}; pass passphrase='...', or passphrase=smartdc.api.prompt_passphrase to "
                "be asked on the terminal, or load the key into ssh-agent"
            ) from None
    if full_key_id is None:
        full_key_id = str(KeyId(account=account, key=signer.md5_fingerprint, user=user))
    return signer, full_key_id


def prompt_passphrase(prompt: str) -> str | None:
    """Ask for a key's passphrase on the terminal, without echo.

    Pass it as ``passphrase=prompt_passphrase`` to :class:`smartdc.CloudAPI` or
    :class:`smartdc.DataCenter`. It is called only if the key file is encrypted, up to three
    times while the answer is wrong. The library never prompts unless given this callback.

    Returns ``None`` (giving up) on end of input.

    Raises:
        PassphraseRequiredError: standard input is not a terminal (a script, a service), so
            there is nobody to ask.
    """
    if sys.stdin is None or not sys.stdin.isatty():
        raise errors.PassphraseRequiredError(
            f"cannot ask {prompt.strip()!r}: standard input is not a terminal; pass "
            "passphrase='...' or load the key into ssh-agent"
        )
    import getpass

    try:
        return getpass.getpass(prompt)
    except EOFError:
        return None
