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


@register("bye")
def bye(args):
    return "bye"


@register("stats")
def show_stats(args):
    return "no stats"
