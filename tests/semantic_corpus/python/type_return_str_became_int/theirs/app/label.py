from app.count import total


def label(items):
    return total(items).zfill(3)
