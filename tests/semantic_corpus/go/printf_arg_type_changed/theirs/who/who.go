package who

func Name() string {
	return "ann"
}
