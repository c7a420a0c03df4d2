from geo.point import Point


def unit_square():
    return [Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 1)]
