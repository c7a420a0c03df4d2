package hello

import "fmt"
import "example.com/app/who"

func Hello() string {
	return fmt.Sprintf("hi %s", who.Name())
}
