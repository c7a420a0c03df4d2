import unittest

import lib


class CoreTest(unittest.TestCase):
    def test_load(self):
        self.assertEqual(lib.load_config("a")["path"], "a")
