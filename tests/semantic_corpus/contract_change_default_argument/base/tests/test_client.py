import unittest

from net.client import connect


class ConnectTest(unittest.TestCase):
    def test_explicit(self):
        self.assertEqual(connect("h", 5), "h (5s)")
