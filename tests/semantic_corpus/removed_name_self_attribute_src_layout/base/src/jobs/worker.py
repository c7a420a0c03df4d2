"""A worker draining a list of jobs."""


class Worker:
    def __init__(self):
        self.pending = []
        self.done = 0

    def submit(self, job):
        self.pending.append(job)

    def run(self):
        while self.pending:
            self.pending.pop()()
            self.done += 1
        return self.done
