import unittest

from net.health import probe


class ProbeTest(unittest.TestCase):
    def test_probe(self):
        self.assertEqual(probe("db"), "db (10s)")
