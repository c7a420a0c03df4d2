package use

import "example.com/app/ids"

func After() int {
	return ids.Next() + 1
}
