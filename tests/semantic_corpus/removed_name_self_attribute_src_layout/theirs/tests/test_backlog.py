import unittest

from jobs.worker import Worker


class BacklogTest(unittest.TestCase):
    def test_backlog(self):
        w = Worker()
        w.submit(print)
        self.assertEqual(w.backlog(), 1)
