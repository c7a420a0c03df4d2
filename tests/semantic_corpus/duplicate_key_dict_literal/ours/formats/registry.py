"""Exporters by format name."""
from formats.writers import write_csv
from formats.json_writer import write_json

from formats.writers import write_txt

EXPORTERS = {
    "json": write_json,
    "csv": write_csv,
    "txt": write_txt,
}


def exporter(name):
    return EXPORTERS[name]
