"""Tools."""
import sys


def argv_count():
    return len(sys.argv)


def platform():
    return sys.platform
