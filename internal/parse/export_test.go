package parse

// AddFormat registers f for the duration of a test.
func AddFormat(f *Format) (remove func()) {
	old := formats
	formats = append([]*Format{f}, formats...)
	return func() { formats = old }
}

// EventHostFields are the fields Host reads, in order.
func EventHostFields() []string { return eventHostFields }
