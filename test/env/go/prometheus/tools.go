//go:build tools

// Package tools pins the command this recipe builds (github.com/prometheus/prometheus/cmd/promtool),
// so that `go mod tidy` keeps its dependencies in go.sum.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
