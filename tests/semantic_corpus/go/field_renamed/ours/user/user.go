package user

type User struct {
	FullName string
}

func Make(n string) User {
	return User{FullName: n}
}
