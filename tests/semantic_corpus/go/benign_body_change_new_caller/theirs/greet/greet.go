package greet

func Greet(name string) string {
	return "hi " + name
}
