package util

func Double() int {
	return Base() * 2
}
