package cfg

type Config struct {
	Port string
}
