class Box:
    def __init__(self, items):
        self.items = list(items)

    @property
    def size(self):
        return sum(1 for _ in self.items)
