"""Identity: people, accounts, roles, guardianships and tokens (OAuth 2 / OpenID Connect provider)."""
