"""Exporters by format name."""
from formats.writers import write_csv
from json import dumps

from formats.writers import write_txt

EXPORTERS = {
    "json": dumps,
    "csv": write_csv,
    "txt": write_txt,
}
