"""Command handlers, filed by name."""

HANDLERS = {}


def register(name):
    def wrap(fn):
        HANDLERS[name] = fn
        return fn
    return wrap


@register("hello")
def hello(args):
    return "hello"


@register("stats")
def stats(args):
    return f"{len(args)} args"


@register("bye")
def bye(args):
    return "bye"
