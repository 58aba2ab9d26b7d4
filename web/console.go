// Package console holds the web console's built single-page application
// (a Svelte and TypeScript app built by Vite from the sources beside this
// file; `make ui` rebuilds dist/). The build is committed, so a machine
// with only Go serves the console; internal/web serves these files.
package console

import "embed"

// Dist is the built console: index.html and assets/ under "dist".
//
//go:embed all:dist
var Dist embed.FS
