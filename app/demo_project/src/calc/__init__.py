"""calc: tokenize, parse and evaluate arithmetic."""

__all__: list[str] = []
