package util

func Helper() int {
	return 3
}
