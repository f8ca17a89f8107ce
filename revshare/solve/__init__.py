"""The solve layer."""
