from app.store import rows


def total():
    return sum(r for r in rows())
