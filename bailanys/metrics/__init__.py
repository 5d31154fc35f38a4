"""Bailanys metrics layer (see ARCHITECTURE.md)."""
