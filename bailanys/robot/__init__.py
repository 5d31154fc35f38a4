"""Bailanys robot layer (see ARCHITECTURE.md)."""
