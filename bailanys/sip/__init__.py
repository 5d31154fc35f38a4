"""Bailanys sip layer (see ARCHITECTURE.md)."""
