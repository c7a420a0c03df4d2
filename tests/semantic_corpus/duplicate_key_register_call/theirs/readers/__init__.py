"""Known readers."""
from readers.base import registry
from readers.kinds import CsvReader, TabReader, TsvReader

registry.register("csv", CsvReader)

registry.register("txt", str)

registry.register("tsv", TsvReader)
