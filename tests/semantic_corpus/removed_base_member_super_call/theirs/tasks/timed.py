from tasks.base import Task


class TimedTask(Task):
    def setup(self):
        super().setup()
        self.log.append("timer started")
