from conf.lookup import setting


def mode_or(name, fallback):
    try:
        return setting(name)
    except ValueError:
        return fallback
