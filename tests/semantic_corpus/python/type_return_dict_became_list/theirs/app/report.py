from app.store import load


def beta():
    return load()["beta"] * 10
