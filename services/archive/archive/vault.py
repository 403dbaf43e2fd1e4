"""The sealed file of a database backup: zstandard-compressed, AES-256-GCM in chunks.

A file is a magic line, then chunks of `length (4 bytes) | ciphertext+tag`. Each chunk's
nonce is its index (the file key is never used twice: it is derived from the master key,
the set's random salt and the file's name), and its index and whether it is the last are
bound into it as associated data: a reordered, changed or truncated file fails to open,
chunk by chunk, before its content reaches anything. Both directions stream: no backup is
ever held whole in memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SCHOOLBK1\n"
CHUNK_BYTES = 1 << 20
LENGTH_BYTES = 4
TAG_BYTES = 16
READ_BYTES = 1 << 20
ZSTD_LEVEL = 3


class BackupRefused(Exception):
    """A backup that must not be used; the message says why, in words an operator reads."""


def derive(master_key: bytes, purpose: str, salt: bytes | None = None) -> bytes:
    """A 32-byte key for one purpose: the master key itself never touches a file."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose.encode())
    return hkdf.derive(master_key)


def file_key(master_key: bytes, salt: bytes, set_id: str, name: str) -> bytes:
    return derive(master_key, f"school-archive backup file v1|{set_id}|{name}", salt)


def key_check(master_key: bytes, salt: bytes) -> str:
    """Lets a restore tell "wrong master key" from "changed manifest"."""
    return hmac.new(derive(master_key, "school-archive key check v1"), salt, "sha256").hexdigest()


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _associated(index: int, final: bool) -> bytes:
    return f"{index}|{int(final)}".encode()


@dataclass
class SealingWriter:
    """A binary sink that seals what it is given into `target`, chunk by chunk."""

    target: BinaryIO
    key: bytes
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    _buffer: bytearray = field(default_factory=bytearray)
    _index: int = 0

    def __post_init__(self) -> None:
        self._emit(MAGIC)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def finish(self) -> None:
        """The last chunk, marked as last: without it the file reads as truncated."""
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _seal(self, plaintext: bytes, final: bool) -> None:
        sealed = AESGCM(self.key).encrypt(
            _nonce(self._index), plaintext, _associated(self._index, final)
        )
        self._emit(len(sealed).to_bytes(LENGTH_BYTES, "big") + sealed)
        self._index += 1

    def _emit(self, data: bytes) -> None:
        self.target.write(data)
        self.digest.update(data)
        self.size += len(data)


@dataclass(frozen=True)
class Sealed:
    size: int
    sha256: str


def seal_stream(source: BinaryIO, path: Path, key: bytes) -> Sealed:
    """Compress and seal everything `source` yields into a new file at `path`."""
    with path.open("xb") as target:
        sealer = SealingWriter(target, key)
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        with compressor.stream_writer(sealer, closefd=False) as compressing:  # type: ignore[arg-type]
            for block in iter(lambda: source.read(READ_BYTES), b""):
                compressing.write(block)
        sealer.finish()
    return Sealed(sealer.size, sealer.digest.hexdigest())


def open_chunks(path: Path, key: bytes) -> Iterator[bytes]:
    """The file's plaintext (still compressed) chunks, each authenticated before it is
    yielded; BackupRefused on any damage."""
    with path.open("rb") as source:
        if source.read(len(MAGIC)) != MAGIC:
            raise BackupRefused(f"{path.name} is not a sealed backup file")
        index = 0
        while True:
            header = source.read(LENGTH_BYTES)
            if len(header) < LENGTH_BYTES:
                raise BackupRefused(f"{path.name} is truncated: its last chunk is missing")
            sealed = source.read(int.from_bytes(header, "big"))
            plaintext, final = _open_chunk(path.name, key, index, sealed)
            yield plaintext
            if final:
                if source.read(1):
                    raise BackupRefused(f"{path.name} has data after its last chunk")
                return
            index += 1


def _open_chunk(name: str, key: bytes, index: int, sealed: bytes) -> tuple[bytes, bool]:
    for final in (False, True):
        try:
            return AESGCM(key).decrypt(_nonce(index), sealed, _associated(index, final)), final
        except InvalidTag:
            continue
    raise BackupRefused(f"{name} is damaged or changed at chunk {index}")


def unseal_stream(path: Path, key: bytes, sink: BinaryIO) -> None:
    """Open, decompress and write the file's content into `sink`, streaming."""
    decompressor = zstandard.ZstdDecompressor()
    with decompressor.stream_writer(sink, closefd=False) as decompressing:  # type: ignore[arg-type]
        for chunk in open_chunks(path, key):
            decompressing.write(chunk)


def check_stream(path: Path, key: bytes) -> None:
    """Authenticate every chunk and decompress it to nowhere: the whole file is sound."""
    unseal_stream(path, key, _Nowhere())  # type: ignore[arg-type]


class _Nowhere:
    def write(self, data: bytes) -> int:
        return len(data)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(READ_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
