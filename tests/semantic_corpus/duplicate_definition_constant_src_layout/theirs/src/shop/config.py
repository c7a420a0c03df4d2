"""Shop settings."""

CURRENCY = "EUR"


def describe():
    return f"prices in {CURRENCY}"


TAX_RATE = 0.25
