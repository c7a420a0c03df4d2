"""Arithmetic."""


def plus(a, b):
    return a + b


def sub(a, b):
    return a - b


add = plus  # the old name, kept for callers
