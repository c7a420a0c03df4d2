package user

type User struct {
	Name string
}

func Make(n string) User {
	return User{Name: n}
}
