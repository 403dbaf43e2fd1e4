"""Archive: encrypted backups with per-subject keys, restores, and the year-end archive."""
