package sigma

import (
	"errors"
	"testing"
)

func TestParseCondition(t *testing.T) {
	names := []string{"selection", "sel_a", "sel_b", "filter_main", "filter_opt", "_hidden"}
	tests := []struct {
		in   string
		want string
	}{
		{"selection", "selection"},
		{"selection and not filter_main", "(selection and not filter_main)"},
		{"selection or sel_a and sel_b", "(selection or (sel_a and sel_b))"},
		{"(selection or sel_a) and sel_b", "((selection or sel_a) and sel_b)"},
		{"not not selection", "not not selection"},
		{"1 of sel_*", "1 of sel_*"},
		{"all of sel_*", "all of sel_*"},
		{"any of sel_*", "1 of sel_*"},
		{"1 of them", "1 of them"},
		{"all of them", "all of them"},
		{"selection and not 1 of filter_*", "(selection and not 1 of filter_*)"},
		{"SELECTION", ""},
		{"selection AND NOT filter_main", "(selection and not filter_main)"},
	}
	for _, tt := range tests {
		e, err := ParseCondition(tt.in, names)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseCondition(%q) = %s, want error", tt.in, FormatExpr(e))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCondition(%q): %v", tt.in, err)
			continue
		}
		if got := FormatExpr(e); got != tt.want {
			t.Errorf("ParseCondition(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseConditionOfResolves(t *testing.T) {
	names := []string{"sel_a", "sel_b", "filter", "_hidden"}
	e, err := ParseCondition("all of them", names)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(Of).Names; len(got) != 3 {
		t.Errorf("them = %v, want the three names without _hidden", got)
	}
	e, err = ParseCondition("1 of sel_*", names)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(Of).Names; len(got) != 2 || got[0] != "sel_a" || got[1] != "sel_b" {
		t.Errorf("sel_* = %v", got)
	}
}

func TestParseConditionErrors(t *testing.T) {
	names := []string{"a", "b"}
	tests := []struct {
		in   string
		kind error
	}{
		{"", ErrInvalid},
		{"a and", ErrInvalid},
		{"(a", ErrInvalid},
		{"a)", ErrInvalid},
		{"c", ErrInvalid},
		{"1 of x*", ErrInvalid},
		{"0 of a", ErrInvalid},
		{"a*", ErrInvalid},
		{"a b", ErrInvalid},
		{"a | count() > 5", ErrUnsupported},
		{"a $ b", ErrInvalid},
	}
	for _, tt := range tests {
		_, err := ParseCondition(tt.in, names)
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseCondition(%q) error = %v, want %v", tt.in, err, tt.kind)
		}
	}
}
