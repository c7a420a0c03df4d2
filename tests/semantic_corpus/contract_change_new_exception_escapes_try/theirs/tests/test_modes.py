import unittest

from conf.modes import mode_or


class T(unittest.TestCase):
    def test_fallback(self):
        self.assertEqual(mode_or("_x", "slow"), "slow")
