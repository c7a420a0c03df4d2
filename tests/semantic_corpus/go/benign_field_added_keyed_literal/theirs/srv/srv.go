package srv

import "example.com/app/cfg"

var Default = cfg.Config{Port: 80}
