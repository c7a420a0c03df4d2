package cli

import "example.com/app/greet"

var Line = greet.Greet("ann")
