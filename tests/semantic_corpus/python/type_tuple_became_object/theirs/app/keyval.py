from app.split import split


def key(text):
    k, v = split(text)
    return k
