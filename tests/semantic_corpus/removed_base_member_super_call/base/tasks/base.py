"""Tasks with a setup step."""


class Task:
    def __init__(self):
        self.log = []

    def setup(self):
        self.log.append("setup")

    def run(self):
        self.setup()
        self.log.append("run")
        return self.log
