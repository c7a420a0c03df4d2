"""Text helpers."""


def words(text):
    return text.split()


def initials(text):
    return "".join(w[0] for w in words(text))
def slugify(text):
    return "_".join(w.lower() for w in words(text))
