package text

func ParseText(s string) []string {
	return []string{s}
}
