def fetch(key):
    return {'key': key}
