import unittest

from netcfg.defaults import port_or_default


class T(unittest.TestCase):
    def test_default(self):
        self.assertEqual(port_or_default("70000"), 8080)
