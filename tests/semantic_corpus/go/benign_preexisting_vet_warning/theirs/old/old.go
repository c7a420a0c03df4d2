package old

import "fmt"

func Bad() string {
	return fmt.Sprintf("%d", "x")
}
