package store

func Load() (int, error) {
	return 1, nil
}
