package mem

import "example.com/app/db"

type Mem struct{}

func (Mem) Get(k string) string { return k }

var Value = db.Use(Mem{})
