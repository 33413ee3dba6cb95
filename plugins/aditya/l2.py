"""Level 2 (in progress)."""
