"""Statistics."""


def summary(values):
    count = len(values)
    return {"mean": sum(values) / count, "count": count}
