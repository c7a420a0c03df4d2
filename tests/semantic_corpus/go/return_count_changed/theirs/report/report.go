package report

import "example.com/app/store"

func Value() int {
	v, err := store.Load()
	if err != nil {
		return 0
	}
	return v
}
