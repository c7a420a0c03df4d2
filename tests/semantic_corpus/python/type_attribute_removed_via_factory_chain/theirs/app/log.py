from app.config import current


def verbose():
    return current().debug or current().level > 2
