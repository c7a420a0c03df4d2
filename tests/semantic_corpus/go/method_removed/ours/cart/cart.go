package cart

type Cart struct{ items []int }

func (c *Cart) Count() int {
	return len(c.items)
}
