"""Diary: each student's diary for guardians and students, built from the journal's events."""
