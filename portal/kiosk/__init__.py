"""Kiosk mode: a shared terminal in a community centre (公民館)."""
