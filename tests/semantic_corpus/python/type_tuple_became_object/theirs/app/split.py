def split(text):
    head, _, tail = text.partition(':')
    return head, tail
