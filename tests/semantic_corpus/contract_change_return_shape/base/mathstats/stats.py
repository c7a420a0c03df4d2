"""Statistics."""


def summary(values):
    count = len(values)
    return sum(values) / count, count
