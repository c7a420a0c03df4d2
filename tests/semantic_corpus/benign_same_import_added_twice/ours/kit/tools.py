"""Tools."""
import os
import sys


def cwd():
    return os.getcwd()


def argv_count():
    return len(sys.argv)


def platform():
    return sys.platform
