"""Writers: each turns rows into text."""


def write_csv(rows):
    return "\n".join(",".join(r) for r in rows)


def write_txt(rows):
    return "\n".join(" ".join(r) for r in rows)
