from app.util import home


def where():
    return home() + '/x'
