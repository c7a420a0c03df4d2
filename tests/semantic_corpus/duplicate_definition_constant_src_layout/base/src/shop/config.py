"""Shop settings."""

CURRENCY = "EUR"


def describe():
    return f"prices in {CURRENCY}"
