package util

func Triple() int {
	return Base() * 3
}
