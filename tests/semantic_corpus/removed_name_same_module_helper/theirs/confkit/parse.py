"""Parsing of key=value lines."""


def _clean(text):
    return text.strip().lower()


def parse_line(line):
    key, _, value = line.partition("=")
    return _clean(key), value.strip()


def parse_lines(lines):
    return dict(parse_line(line) for line in lines if line.strip())


def is_comment(line):
    return line.lstrip().startswith("#")


def parse_keys(lines):
    return [_clean(line.partition("=")[0]) for line in lines]
