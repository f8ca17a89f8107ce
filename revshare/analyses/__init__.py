"""The analyses layer."""
