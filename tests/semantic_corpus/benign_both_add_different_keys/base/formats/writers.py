def write_csv(rows):
    return ",".join(rows)


def write_txt(rows):
    return " ".join(rows)
