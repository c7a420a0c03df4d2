import unittest

from tasks.base import Task


class T(unittest.TestCase):
    def test_run(self):
        self.assertEqual(Task().run()[-1], "run")
