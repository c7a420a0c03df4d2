def after_save(item):
    return item
