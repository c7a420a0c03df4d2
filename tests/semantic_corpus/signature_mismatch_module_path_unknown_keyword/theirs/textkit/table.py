import textkit.fmt


def row(cells):
    return "|".join(textkit.fmt.pad(c, width=6) for c in cells)
