package db

type Store interface {
	Get(k string) string
	Close() error
}

func Use(s Store) string {
	defer s.Close()
	return s.Get("k")
}
