class CsvReader:
    sep = ","


class TabReader:
    sep = "\t"


class TsvReader:
    sep = "\t"
    header = True
