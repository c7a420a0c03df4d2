"""Arithmetic."""


def add(a, b, scale=1):
    return (a + b) * scale


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
