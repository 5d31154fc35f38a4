"""Bailanys engine layer (see ARCHITECTURE.md)."""
