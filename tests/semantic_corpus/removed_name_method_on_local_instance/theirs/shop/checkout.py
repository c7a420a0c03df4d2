from shop.cart import Cart


def receipt(prices):
    cart = Cart()
    for price in prices:
        cart.add(price)
    return f"total: {cart.total_price()}"
