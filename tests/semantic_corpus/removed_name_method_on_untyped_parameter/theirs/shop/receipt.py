def receipt(cart):
    return f"total: {cart.total_price()}"
