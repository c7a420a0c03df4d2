import unittest

from accounts.demo import demo


class DemoTest(unittest.TestCase):
    def test_demo(self):
        self.assertEqual(demo(), 10)
