package cart

type Cart struct{ items []int }

func (c *Cart) Total() int {
	return len(c.items)
}
