"""Bailanys queue layer (see ARCHITECTURE.md)."""
