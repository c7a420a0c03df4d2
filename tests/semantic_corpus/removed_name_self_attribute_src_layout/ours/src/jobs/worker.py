"""A worker draining a list of jobs."""


class Worker:
    def __init__(self):
        self._pending = []
        self.done = 0

    def submit(self, job):
        self._pending.append(job)

    def run(self):
        while self._pending:
            self._pending.pop()()
            self.done += 1
        return self.done
