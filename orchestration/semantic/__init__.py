"""Semantic checks of merged Python: static analysis that needs neither the store nor the session."""
