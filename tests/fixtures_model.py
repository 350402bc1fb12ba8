"""Model fixtures (tiny_run)."""
