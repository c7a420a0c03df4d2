import unittest

from reports.render import render


class T(unittest.TestCase):
    def test_render(self):
        self.assertTrue(render(["a"]))
