"""The signed manifest of a backup set (R-ARC-3): what the set holds, and proof of it.

It lists every file with its size and SHA-256, the erasure ledger's position when the
dump was taken, the schema revision and the row count of every table. It is signed
with HMAC-SHA256 under a key derived from the master key, so a changed file (its
digest no longer matches) or a changed manifest (its signature no longer matches) is
found before anything is restored. The set's salt and a key check value sit in it too,
so that the wrong master key is told apart from tampering.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archive.vault import BackupRefused, derive, key_check, sha256_of

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    set_id: str
    service: str
    created_at: str  # ISO 8601 with its offset
    dump_format: str  # postgresql-custom | sqlite
    schema_revision: str | None
    ledger_position: int
    salt: str  # hex; every file key derives from it
    key_check: str
    files: tuple[FileEntry, ...] = ()
    row_counts: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT

    def file(self, name: str) -> FileEntry:
        return next(entry for entry in self.files if entry.name == name)

    @property
    def salt_bytes(self) -> bytes:
        return bytes.fromhex(self.salt)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["files"] = [asdict(entry) for entry in self.files]
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Manifest:
        values = dict(body)
        values["files"] = tuple(FileEntry(**entry) for entry in body["files"])
        return cls(**values)


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature(master_key: bytes, body: dict[str, Any]) -> str:
    signing_key = derive(master_key, "school-archive manifest signing v1")
    return hmac.new(signing_key, _canonical(body), "sha256").hexdigest()


def write_manifest(directory: Path, manifest: Manifest, master_key: bytes) -> str:
    """Write the signed manifest; returns the manifest file's SHA-256 for the catalogue."""
    body = manifest.to_dict()
    signed = {"manifest": body, "signature": _signature(master_key, body)}
    path = directory / MANIFEST
    path.write_text(json.dumps(signed, indent=1, sort_keys=True))
    return sha256_of(path)


def read_manifest(directory: Path, master_key: bytes) -> Manifest:
    """The manifest, once its key check and signature hold; BackupRefused otherwise."""
    path = directory / MANIFEST
    try:
        signed = json.loads(path.read_text())
        body, signature = signed["manifest"], signed["signature"]
        manifest = Manifest.from_dict(body)
    except FileNotFoundError:
        raise BackupRefused(f"backup set {directory.name} has no manifest") from None
    except (ValueError, KeyError, TypeError):
        raise BackupRefused(f"the manifest of backup set {directory.name} is unreadable") from None
    if not hmac.compare_digest(key_check(master_key, manifest.salt_bytes), manifest.key_check):
        raise BackupRefused(
            f"backup set {directory.name} was made with another master key: "
            "check ARCHIVE_MASTER_KEY"
        )
    if not hmac.compare_digest(_signature(master_key, body), str(signature)):
        raise BackupRefused(
            f"the manifest of backup set {directory.name} was changed: bad signature"
        )
    return manifest


def check_files(directory: Path, manifest: Manifest) -> None:
    """Every listed file is there, with its size and digest; BackupRefused otherwise."""
    for entry in manifest.files:
        path = directory / entry.name
        if not path.is_file():
            raise BackupRefused(f"{entry.name} of backup set {manifest.set_id} is missing")
        if path.stat().st_size != entry.size:
            raise BackupRefused(
                f"{entry.name} of backup set {manifest.set_id} has the wrong size "
                f"({path.stat().st_size} bytes, the manifest says {entry.size}): truncated or changed"
            )
        if sha256_of(path) != entry.sha256:
            raise BackupRefused(
                f"{entry.name} of backup set {manifest.set_id} was changed: bad SHA-256"
            )
