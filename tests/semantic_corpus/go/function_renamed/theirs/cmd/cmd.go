package cmd

import "example.com/app/text"

func Words() int {
	return len(text.Parse("a"))
}
