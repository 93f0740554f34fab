"""Validation and the shapes of what the API sends and receives."""
