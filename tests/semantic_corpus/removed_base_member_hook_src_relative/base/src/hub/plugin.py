"""Plugins check their input before they handle it."""


class Plugin:
    name = "plugin"

    def validate(self, data):
        return bool(data)

    def handle(self, data):
        if not self.validate(data):
            raise ValueError(f"{self.name}: bad input")
        return self.process(data)

    def process(self, data):
        return data
