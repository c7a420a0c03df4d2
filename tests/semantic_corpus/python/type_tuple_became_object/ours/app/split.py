from dataclasses import dataclass


@dataclass
class Parts:
    head: str
    tail: str


def split(text):
    head, _, tail = text.partition(':')
    return Parts(head, tail)
