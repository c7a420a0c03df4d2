from mathstats.stats import mean, spread


def line(values):
    return f"mean {mean(values)} spread {spread(values)}"
