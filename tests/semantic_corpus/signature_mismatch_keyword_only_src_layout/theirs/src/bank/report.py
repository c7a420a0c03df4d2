from bank.money import convert


def in_dollars(amount):
    return f"${convert(amount, 1.1)}"
