from app.scale import scale


def six() -> int:
    return scale(3)
