package db

type Store interface {
	Get(k string) string
}

func Use(s Store) string {
	return s.Get("k")
}
