from app.box import Box


def next_size(box: Box) -> int:
    return box.size + 1
