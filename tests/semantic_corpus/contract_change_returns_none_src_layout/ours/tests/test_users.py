import unittest

from directory.users import find_user


class FindTest(unittest.TestCase):
    def test_find(self):
        self.assertEqual(find_user("ann"), 1)
