"""Bailanys ivr layer (see ARCHITECTURE.md)."""
