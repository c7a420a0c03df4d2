class Box:
    def __init__(self, items):
        self.items = items

    def size(self):
        return len(self.items)
