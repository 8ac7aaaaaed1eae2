"""The ground floor: errors, clock, paths, database, models, config.

Imports nothing of ours outside itself (a test pins it)."""
