import unittest

from jobs.worker import Worker


class WorkerTest(unittest.TestCase):
    def test_run(self):
        w = Worker()
        w.submit(lambda: None)
        self.assertEqual(w.run(), 1)
