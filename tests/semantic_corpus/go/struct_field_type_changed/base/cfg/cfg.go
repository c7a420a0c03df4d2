package cfg

type Config struct {
	Port int
}
