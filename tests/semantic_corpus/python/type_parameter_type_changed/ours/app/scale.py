def scale(x: list[int]) -> list[int]:
    return [v * 2 for v in x]
