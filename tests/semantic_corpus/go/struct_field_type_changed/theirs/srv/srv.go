package srv

import "example.com/app/cfg"

func Privileged(c cfg.Config) bool {
	return c.Port < 1024
}
