// Package layout has no code: its tests enforce the repository's structure
// (every package documented, the dependency direction of
// docs/ARCHITECTURE.md, no grab-bag packages, no fmt.Print outside cmd/),
// so the layout stays true as the code grows.
package layout
