from web import paging


def page_count(items):
    return -(-items // paging.PAGE_SIZE)
