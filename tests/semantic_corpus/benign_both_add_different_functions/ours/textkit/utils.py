"""Text helpers."""


def first_word(text):
    return words(text)[0]


def words(text):
    return text.split()


def initials(text):
    return "".join(w[0] for w in words(text))
