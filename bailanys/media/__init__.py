"""Bailanys media layer (see ARCHITECTURE.md)."""
