import unittest
from unittest import mock
import app.hooks


class T(unittest.TestCase):
    def test_it(self):
        with mock.patch("app.hooks.on_save", return_value=2):
            self.assertEqual(app.hooks.on_save(1), 2)
