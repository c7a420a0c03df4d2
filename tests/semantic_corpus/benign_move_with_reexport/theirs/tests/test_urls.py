import unittest

from util.urls import article_url


class UrlTest(unittest.TestCase):
    def test_url(self):
        self.assertEqual(article_url("Hi There"), "/articles/hi-there")
