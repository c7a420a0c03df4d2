package ids

func Next() string {
	return "1"
}
