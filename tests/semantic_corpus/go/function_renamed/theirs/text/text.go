package text

func Parse(s string) []string {
	return []string{s}
}
