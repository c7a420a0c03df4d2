package cart

func (c *Cart) Count() int {
	return len(c.items)
}
