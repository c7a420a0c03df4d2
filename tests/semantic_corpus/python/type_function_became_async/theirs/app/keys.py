from app.fetch import fetch


def key_of(k):
    return fetch(k)['key']
