"""Money conversion."""


def convert(amount, rate):
    return round(amount * rate, 2)
