package util

func Base() int {
	return 1
}
