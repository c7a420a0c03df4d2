from app.scale import scale


def double_three() -> int:
    return scale(3)
