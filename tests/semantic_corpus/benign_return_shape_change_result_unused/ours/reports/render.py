"""Reports."""


def render(rows):
    print("\n".join(rows))
    return {"rows": len(rows), "chars": sum(len(r) for r in rows)}
