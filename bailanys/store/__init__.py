"""Bailanys store layer (see ARCHITECTURE.md)."""
