"""Reports."""


def render(rows):
    print("\n".join(rows))
    return len(rows), sum(len(r) for r in rows)
