"""Commands by name."""
from app.actions import start, stop_all

COMMANDS = {
    "start": start,
    "stop": stop_all,
}


def run(name):
    return COMMANDS[name]()
