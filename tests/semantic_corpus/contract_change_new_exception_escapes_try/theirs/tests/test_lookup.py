import unittest

from conf.lookup import setting


class T(unittest.TestCase):
    def test_mode(self):
        self.assertEqual(setting("mode"), "fast")
