package intel

import (
	"fmt"
	"strings"
)

// TLP is a Traffic Light Protocol 2.0 marking.
type TLP string

// The TLP 2.0 levels, least restricted first.
const (
	TLPClear       TLP = "clear"
	TLPGreen       TLP = "green"
	TLPAmber       TLP = "amber"
	TLPAmberStrict TLP = "amber+strict"
	TLPRed         TLP = "red"
)

// ParseTLP reads a level as people and feeds write it: "TLP:AMBER",
// "amber", "tlp:amber+strict"; TLP 1.0's WHITE is CLEAR.
func ParseTLP(s string) (TLP, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(v, "tlp:")
	v = strings.TrimSpace(v)
	switch v {
	case "clear", "white":
		return TLPClear, nil
	case "green":
		return TLPGreen, nil
	case "amber":
		return TLPAmber, nil
	case "amber+strict", "amber-strict", "amber_strict":
		return TLPAmberStrict, nil
	case "red":
		return TLPRed, nil
	}
	return "", fmt.Errorf("tlp %q: want clear, green, amber, amber+strict or red", s)
}

// Rank orders the levels: 0 for CLEAR up to 4 for RED.
func (t TLP) Rank() int {
	switch t {
	case TLPClear:
		return 0
	case TLPGreen:
		return 1
	case TLPAmber:
		return 2
	case TLPAmberStrict:
		return 3
	}
	return 4
}

// Restricted reports whether t limits sharing to named recipients
// (AMBER+STRICT and RED).
func (t TLP) Restricted() bool { return t == TLPAmberStrict || t == TLPRed }

// Label is how t is written on screen and in exports: "TLP:AMBER+STRICT".
func (t TLP) Label() string { return "TLP:" + strings.ToUpper(string(t)) }

// The STIX marking-definition ids of TLP 2.0 (the OASIS extension) and of
// TLP 1.0 (predefined by STIX 2.1).
var (
	tlp2Markings = map[TLP]string{
		TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
	tlp1Markings = map[string]TLP{
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLPClear,
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLPGreen,
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLPAmber,
		"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLPRed,
	}
)

// MarkingID is the STIX TLP 2.0 marking-definition id of t.
func (t TLP) MarkingID() string { return tlp2Markings[t] }

// TLPOfMarking returns the level a marking-definition id stands for: the
// TLP 2.0 ids and the TLP 1.0 ones (WHITE as CLEAR).
func TLPOfMarking(id string) (TLP, bool) {
	for t, m := range tlp2Markings {
		if m == id {
			return t, true
		}
	}
	t, ok := tlp1Markings[id]
	return t, ok
}

// Strictest returns the more restricted of a and b.
func Strictest(a, b TLP) TLP {
	if a.Rank() >= b.Rank() {
		return a
	}
	return b
}
