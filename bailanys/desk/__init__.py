"""The operators' desktop (issue 19)."""
