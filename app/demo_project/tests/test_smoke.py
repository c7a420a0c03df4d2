import unittest

import calc


class Smoke(unittest.TestCase):
    def test_package_imports(self):
        self.assertTrue(calc.__doc__)
