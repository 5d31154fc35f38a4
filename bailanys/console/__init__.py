"""Bailanys console layer (see ARCHITECTURE.md)."""
