"""Secrets at rest: the master key (environment or data dir), owner-only files, derived secrets."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infra.errors import MasterKeyError

MASTER_KEY_ENV = "CREDITBANK_MASTER_KEY"
MASTER_KEY_FILE = "master.key"


def parse_master_key(text: str) -> bytes:
    """A 32-byte master key from its hex or base64 text."""
    text = text.strip()
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = b""
    if len(key) != 32:
        raise MasterKeyError(f"{MASTER_KEY_ENV} must be 32 bytes, as hex or base64")
    return key


def master_key(data_dir: Path, *, create: bool = False) -> bytes:
    """The master key: `CREDITBANK_MASTER_KEY` if set, else the data dir's own (laptop) key file."""
    if os.environ.get(MASTER_KEY_ENV):
        return parse_master_key(os.environ[MASTER_KEY_ENV])
    path = Path(data_dir) / MASTER_KEY_FILE
    if not path.exists():
        if not create:
            raise MasterKeyError(f"no master key: set {MASTER_KEY_ENV} or run `creditbank init`")
        write_private(path, secrets.token_hex(32) + "\n")
    return parse_master_key(path.read_text("utf-8"))


def known_master_key(data_dir: Path) -> bytes | None:
    """The master key when one is set or kept in the data dir (a malformed one is refused);
    None when there is none yet."""
    if os.environ.get(MASTER_KEY_ENV) or (Path(data_dir) / MASTER_KEY_FILE).exists():
        return master_key(data_dir)
    return None


def write_private(path: Path, content: str | bytes) -> None:
    """Write a file only its owner can read (mode 0600), creating its folder (mode 0700); four
    system calls when the folder is there (issuance writes a file a credential)."""
    data = memoryview(content.encode("utf-8") if isinstance(content, str) else content)
    descriptor = _open_private(path)
    try:
        while data:
            data = data[os.write(descriptor, data):]
    finally:
        os.close(descriptor)


def open_private(path: Path) -> BinaryIO:
    """A file opened for writing (truncated) that only its owner can read: mode 0600 whatever
    the umask, also when it existed with a wider mode; its folder is created mode 0700."""
    return os.fdopen(_open_private(path), "wb")


def _open_private(path: Path) -> int:
    """The descriptor of `open_private`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, flags, 0o600)
    found = os.fstat(descriptor)
    if stat.S_IMODE(found.st_mode) != 0o600 and found.st_uid == os.geteuid():
        os.fchmod(descriptor, 0o600)  # only when it differs: a change of mode is a costly write
    return descriptor


def keep_private(*paths: Path | str) -> None:
    """Take group and other permissions off those of `paths` that exist and this process owns."""
    for path in paths:
        try:
            status = os.stat(path)
        except FileNotFoundError:
            continue
        if status.st_mode & 0o077 and status.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(status.st_mode) & 0o700)


def private_dir(path: Path) -> None:
    """Create a folder (and its parents) that only its owner can enter (mode 0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    keep_private(path)


def derive_secret(master_key: bytes, purpose: bytes) -> bytes:
    """A 32-byte secret for one purpose, derived from the master key (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)
