from market.basket import open_basket


def bulk(price):
    basket = open_basket()
    return basket.add(price, 10)
