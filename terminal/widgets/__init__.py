"""Reusable widgets of the station screens."""
