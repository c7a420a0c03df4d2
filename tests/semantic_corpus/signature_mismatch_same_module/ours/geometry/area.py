"""Areas of simple shapes."""


def rect(dims):
    width, height = dims
    return width * height


def square(side):
    return rect((side, side))


def triangle(base, height):
    return base * height / 2
