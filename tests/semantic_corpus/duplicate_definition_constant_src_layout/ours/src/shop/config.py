"""Shop settings."""

CURRENCY = "EUR"
TAX_RATE = 0.2


def describe():
    return f"prices in {CURRENCY}"
