"""Helpers for tests and smoke runs: tiny models built locally (no hub download)."""
