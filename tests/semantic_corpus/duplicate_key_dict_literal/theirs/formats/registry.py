"""Exporters by format name."""
from formats.writers import write_csv

from formats.writers import write_txt
from formats.writers import dump_json

EXPORTERS = {
    "csv": write_csv,
    "txt": write_txt,
    "json": dump_json,
}


def exporter(name):
    return EXPORTERS[name]
