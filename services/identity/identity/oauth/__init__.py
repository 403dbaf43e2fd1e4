"""identity as an OAuth 2 / OpenID Connect provider, built with Authlib (DESIGN §5)."""
