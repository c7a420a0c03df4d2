package greet

func Greet(name string) string {
	return "hello " + name
}
