"""identity verifies its own tokens from its own key table, not over HTTP to itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from identity.oauth.keys import KeyRing
from schoolkit.auth import TokenVerifier
from schoolkit.db import Database


class OwnKeysVerifier(TokenVerifier):
    def __init__(self, database: Database, keyring: KeyRing, issuer: str) -> None:
        super().__init__("", issuer, refresh_interval=1.0, max_key_age=30.0)
        self.database = database
        self.keyring = keyring

    def load_jwks(self) -> dict[str, Any]:
        try:
            with self.database.transaction() as session:
                self.keyring.signing_key(session)
                return self.keyring.jwks(session)
        except SQLAlchemyError as error:
            raise ValueError("the key table cannot be read") from error
