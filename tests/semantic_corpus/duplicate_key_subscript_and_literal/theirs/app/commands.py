"""Commands by name."""
from app.actions import start

COMMANDS = {
    "start": start,
}


def run(name):
    return COMMANDS[name]()


def halt():
    return "halted"


COMMANDS["stop"] = halt
