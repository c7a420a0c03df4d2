"""Paging settings."""

PAGE_SIZE = 20
MAX_PAGES = 500
