def export(rows):
    return ','.join(rows)
