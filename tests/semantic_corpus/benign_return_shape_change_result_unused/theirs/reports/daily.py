from reports.render import render


def daily(rows):
    render(["daily"] + rows)
    return True
