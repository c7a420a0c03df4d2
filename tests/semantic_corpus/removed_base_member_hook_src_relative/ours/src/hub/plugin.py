"""Plugins check their input before they handle it."""


class Plugin:
    name = "plugin"

    def check(self, data):
        return data is not None

    def handle(self, data):
        if not self.check(data):
            raise ValueError(f"{self.name}: bad input")
        return self.process(data)

    def process(self, data):
        return data
