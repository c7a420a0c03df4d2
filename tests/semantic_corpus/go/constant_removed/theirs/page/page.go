package page

import "example.com/app/conf"

func Pages(n int) int {
	return n / conf.MaxItems
}
