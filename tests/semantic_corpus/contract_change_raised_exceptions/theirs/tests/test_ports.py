import unittest

from netcfg.ports import parse_port


class PortTest(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(parse_port("80"), 80)
