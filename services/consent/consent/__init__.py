"""Consent: consents, diary agreements, and the erasure that follows a revocation or a student leaving."""
