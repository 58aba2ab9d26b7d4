package parse

// AddFormat registers f for the duration of a test.
func AddFormat(f *Format) (remove func()) {
	old := formats
	formats = append([]*Format{f}, formats...)
	return func() { formats = old }
}
