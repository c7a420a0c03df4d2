"""A counter with a starting value."""


class Counter:
    def __init__(self, start=0):
        self.start = start
        self.count = start

    def increment(self):
        self.count += 1
        return self.count

    def value(self):
        return self.count

    def reset(self):
        self.count = self.start
