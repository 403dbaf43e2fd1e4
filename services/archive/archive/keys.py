"""Per-person data keys, wrapped by the master key (AES-256-GCM both).

The master key comes from ARCHIVE_MASTER_KEY (32 bytes, base64). A local run without it
uses a development key derived from a fixed phrase and says so in the log: fine on a
laptop, never in a school, so a deployed image refuses to start without it
(schoolkit.keys).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.models import SubjectKey
from archive.vault import derive
from schoolkit.keys import key_from_env

NONCE_BYTES = 12
REFERENCE_PURPOSE = "school-archive subject key reference v1"
DEVELOPMENT_PHRASE = b"school-archive development master key - not for production"


def master_key_from_env() -> bytes:
    """ARCHIVE_MASTER_KEY; a deployed archive refuses to start without it."""
    return key_from_env("ARCHIVE_MASTER_KEY", DEVELOPMENT_PHRASE)


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)


def reference(reference_key: bytes, key_id: str) -> str:
    """The name a key and its records are stored under: a keyed digest of the person's
    id, so neither the key store nor a sealed record, nor any copy of them, shows whom it
    is about; the archive, holding the master key, still finds both for an erasure."""
    return "k:" + hmac.new(reference_key, key_id.encode(), "sha256").hexdigest()


class KeyStore:
    """The data keys of one archive database; `master_key` wraps each of them. Callers
    name keys by the person's id; the store keeps only their references."""

    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key
        self._reference_key = derive(master_key, REFERENCE_PURPOSE)

    def ref(self, key_id: str) -> str:
        return reference(self._reference_key, key_id)

    def key_for(self, session: Session, key_id: str, school_id: str) -> bytes:
        """The key of `key_id`, made on first use."""
        ref = self.ref(key_id)
        stored = session.get(SubjectKey, ref)
        if stored is not None:
            return unseal(self.master_key, stored.wrapped_key, ref.encode())
        key = AESGCM.generate_key(bit_length=256)
        wrapped = seal(self.master_key, key, ref.encode())
        session.add(SubjectKey(key_id=ref, school_id=school_id, wrapped_key=wrapped))
        session.flush()
        return key

    def existing_key(self, session: Session, key_id: str) -> bytes | None:
        return self.key_by_ref(session, self.ref(key_id))

    def key_by_ref(self, session: Session, ref: str) -> bytes | None:
        stored = session.get(SubjectKey, ref)
        if stored is None:
            return None
        return unseal(self.master_key, stored.wrapped_key, ref.encode())

    def shred(self, session: Session, key_ids: Iterable[str], school_id: str) -> int:
        """Destroy the school's keys: whatever they sealed, wherever it is copied, is
        unreadable. A key of another school with the same id is not touched."""
        wanted = [self.ref(key_id) for key_id in key_ids]
        if not wanted:
            return 0
        of_school = (SubjectKey.key_id.in_(wanted), SubjectKey.school_id == school_id)
        found = session.scalars(select(SubjectKey.key_id).where(*of_school))
        count = len(list(found))
        session.execute(delete(SubjectKey).where(*of_school))
        return count
