"""Per-person data keys, wrapped by the master key (AES-256-GCM both).

The master key comes from ARCHIVE_MASTER_KEY (32 bytes, base64). A local run without it
uses a development key derived from a fixed phrase and says so in the log: fine on a
laptop, never in a school, so a deployed image refuses to start without it
(schoolkit.keys).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.models import SubjectKey
from schoolkit.keys import key_from_env

NONCE_BYTES = 12
DEVELOPMENT_PHRASE = b"school-archive development master key - not for production"


def master_key_from_env() -> bytes:
    """ARCHIVE_MASTER_KEY; a deployed archive refuses to start without it."""
    return key_from_env("ARCHIVE_MASTER_KEY", DEVELOPMENT_PHRASE)


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)


class KeyStore:
    """The data keys of one archive database; `master_key` wraps each of them."""

    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key

    def key_for(self, session: Session, key_id: str, school_id: str) -> bytes:
        """The key of `key_id`, made on first use."""
        stored = session.get(SubjectKey, key_id)
        if stored is not None:
            return unseal(self.master_key, stored.wrapped_key, key_id.encode())
        key = AESGCM.generate_key(bit_length=256)
        wrapped = seal(self.master_key, key, key_id.encode())
        session.add(SubjectKey(key_id=key_id, school_id=school_id, wrapped_key=wrapped))
        session.flush()
        return key

    def existing_key(self, session: Session, key_id: str) -> bytes | None:
        stored = session.get(SubjectKey, key_id)
        if stored is None:
            return None
        return unseal(self.master_key, stored.wrapped_key, key_id.encode())

    @staticmethod
    def shred(session: Session, key_ids: Iterable[str], school_id: str) -> int:
        """Destroy the school's keys: whatever they sealed, wherever it is copied, is
        unreadable. A key of another school with the same id is not touched."""
        wanted = list(key_ids)
        if not wanted:
            return 0
        of_school = (SubjectKey.key_id.in_(wanted), SubjectKey.school_id == school_id)
        found = session.scalars(select(SubjectKey.key_id).where(*of_school))
        count = len(list(found))
        session.execute(delete(SubjectKey).where(*of_school))
        return count
