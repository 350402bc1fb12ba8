"""Data-layer fixtures (tiny_sky, tiny_dataset)."""
