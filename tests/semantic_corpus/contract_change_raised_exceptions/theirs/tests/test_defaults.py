import unittest

from netcfg.defaults import port_or_default


class DefaultTest(unittest.TestCase):
    def test_default(self):
        self.assertEqual(port_or_default("70000"), 8080)
