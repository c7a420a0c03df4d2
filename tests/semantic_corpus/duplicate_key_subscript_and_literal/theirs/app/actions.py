def start():
    return "started"


def stop_all():
    return "stopped all"
