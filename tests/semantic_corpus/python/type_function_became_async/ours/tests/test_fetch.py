import unittest
import asyncio
from app.fetch import fetch


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(asyncio.run(fetch('a'))['key'], 'a')
