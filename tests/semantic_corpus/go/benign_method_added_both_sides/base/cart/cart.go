package cart

type Cart struct{ items []int }
