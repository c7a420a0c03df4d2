package pay

import "example.com/app/cart"

func Due(c *cart.Cart) int {
	return c.Total() * 2
}
