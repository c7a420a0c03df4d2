"""Numbers."""


def double(x, times=2):
    return times * x


def halve(x):
    return x / 2
