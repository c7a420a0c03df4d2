from mathstats.stats import summary


def line(values):
    mean, count = summary(values)
    return f"{count} values, mean {mean}"
