from .plugin import Plugin


class EmailPlugin(Plugin):
    name = "email"

    def validate(self, data):
        return "@" in data
