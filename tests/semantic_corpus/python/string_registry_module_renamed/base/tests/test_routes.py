import unittest
from app.routes import ROUTES


class T(unittest.TestCase):
    def test_it(self):
        self.assertIn('mail', ROUTES)
