package greet

func Greet(name, greeting string) string {
	return greeting + " " + name
}
