"""Bailanys voice layer (see ARCHITECTURE.md)."""
