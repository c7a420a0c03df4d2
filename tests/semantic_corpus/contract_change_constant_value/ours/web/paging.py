"""Paging settings."""

PAGE_SIZE = 50
MAX_PAGES = 100
