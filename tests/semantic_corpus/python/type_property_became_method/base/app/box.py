class Box:
    def __init__(self, items):
        self.items = items

    @property
    def size(self):
        return len(self.items)
