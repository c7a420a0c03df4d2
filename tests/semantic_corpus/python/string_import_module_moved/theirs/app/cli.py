import importlib


def run(rows):
    module = importlib.import_module("app.plugins.csv_out")
    return module.export(rows)
