def on_save(item):
    return item
