"""Exporters by format name."""
from formats.writers import write_csv

from formats.writers import write_txt
from pprint import pformat

EXPORTERS = {
    "csv": write_csv,
    "txt": write_txt,
    "pretty": pformat,
}
