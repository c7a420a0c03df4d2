package show

import "example.com/app/user"

func Show(n string) string {
	return user.Make(n).Name
}
