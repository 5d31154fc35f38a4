"""Bailanys analytics layer (see ARCHITECTURE.md)."""
