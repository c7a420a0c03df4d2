"""Tasks with a setup step."""


class Task:
    def __init__(self):
        self.log = []

    def run(self):
        self.log.append("setup")
        self.log.append("run")
        return self.log
