from util.strings import slug


def article_url(title):
    return "/articles/" + slug(title)
