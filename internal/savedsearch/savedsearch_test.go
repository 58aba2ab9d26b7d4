package savedsearch

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Search{Name: "Failed logons", Query: "event.code:4625", Description: "spraying"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good search: %v", err)
	}
	for what, c := range map[string]struct {
		change func(*Search)
		want   string
	}{
		"no name":         {func(s *Search) { s.Name = "  " }, "name: required"},
		"long name":       {func(s *Search) { s.Name = strings.Repeat("n", MaxName+1) }, "name: at most 200 bytes"},
		"padded name":     {func(s *Search) { s.Name = " Failed logons" }, "name: no spaces at either end"},
		"control in name": {func(s *Search) { s.Name = "Failed\nlogons" }, "name: no control characters"},
		"no query":        {func(s *Search) { s.Query = "" }, "query: required"},
		"long query":      {func(s *Search) { s.Query = strings.Repeat("q", MaxQuery+1) }, "query: at most 10000 bytes"},
		"bad UTF-8":       {func(s *Search) { s.Query = "a\xffb" }, "query: not UTF-8"},
		"long text":       {func(s *Search) { s.Description = strings.Repeat("d", MaxDescription+1) }, "description: at most 2000 bytes"},
	} {
		s := ok
		c.change(&s)
		err := s.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", what, err, c.want)
		}
	}
}
