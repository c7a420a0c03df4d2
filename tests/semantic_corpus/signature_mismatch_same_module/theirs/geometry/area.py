"""Areas of simple shapes."""


def rect(width, height):
    return width * height


def square(side):
    return rect(side, side)


def triangle(base, height):
    return base * height / 2


def banner():
    return rect(2, 5)
