package alert

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Criticality is how much a tenant cares about one of its assets (a host
// or user), set by the tenant's admin; it weighs the risk of alerts about it.
type Criticality string

// Criticalities, lowest first. An asset with none set is normal.
const (
	CriticalityLow      Criticality = "low"
	CriticalityNormal   Criticality = "normal"
	CriticalityHigh     Criticality = "high"
	CriticalityCritical Criticality = "critical"
)

// ParseCriticality checks s names a criticality.
func ParseCriticality(s string) (Criticality, error) {
	switch c := Criticality(s); c {
	case CriticalityLow, CriticalityNormal, CriticalityHigh, CriticalityCritical:
		return c, nil
	}
	return "", fmt.Errorf("%w: criticality %q: want low, normal, high or critical", ErrInvalid, s)
}

// weight is the criticality's factor on risk.
func (c Criticality) weight() float64 {
	switch c {
	case CriticalityLow:
		return 0.6
	case CriticalityHigh:
		return 1.3
	case CriticalityCritical:
		return 1.6
	}
	return 1
}

// rank orders criticalities ("" and normal are equal).
func (c Criticality) rank() int {
	switch c {
	case CriticalityLow:
		return 0
	case CriticalityHigh:
		return 2
	case CriticalityCritical:
		return 3
	}
	return 1
}

// Max returns the higher of c and o.
func (c Criticality) Max(o Criticality) Criticality {
	if o.rank() > c.rank() {
		return o
	}
	return c
}

// Asset is one host or user a tenant marked with a criticality.
type Asset struct {
	Tenant tenant.ID `json:"tenant"`
	// Type is host or user.
	Type        string      `json:"type"`
	Name        string      `json:"name"`
	Criticality Criticality `json:"criticality"`
}

// Key is how assets are looked up: type and lower-cased name.
func (a Asset) Key() string { return a.Type + "\x00" + strings.ToLower(a.Name) }

// Assets keeps tenants' asset criticalities.
type Assets interface {
	// SetAsset stores a's criticality (normal removes it).
	SetAsset(ctx context.Context, a Asset) error
	// Assets lists tenant t's assets.
	Assets(ctx context.Context, t tenant.ID) ([]Asset, error)
	// AllAssets lists every tenant's assets (for the pipeline).
	AllAssets(ctx context.Context) ([]Asset, error)
}

// base is the risk of one detection of a rule of level l on a normal asset.
func base(l string) float64 {
	switch l {
	case "informational":
		return 10
	case "low":
		return 25
	case "medium":
		return 45
	case "high":
		return 65
	case "critical":
		return 85
	}
	return 25
}

// Risk scores an alert 0..100 from its rule's level, the criticality of
// its assets and how many events it stands for: a critical asset lifts a
// high rule to critical territory, and every tenfold more events adds 5.
// (Indicator confidence joins when intel matches raise alerts.)
func Risk(level string, c Criticality, count int64) int {
	r := base(level) * c.weight()
	if count > 1 {
		r += 5 * math.Log10(float64(count))
	}
	return int(math.Round(min(100, max(0, r))))
}
