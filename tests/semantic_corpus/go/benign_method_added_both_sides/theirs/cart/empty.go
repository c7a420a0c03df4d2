package cart

func (c *Cart) Empty() bool {
	return len(c.items) == 0
}
