import json


def write_json(rows):
    return json.dumps(rows)
