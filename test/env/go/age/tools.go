//go:build tools

// Package tools pins the commands this recipe builds (filippo.io/age/cmd/age and cmd/age-keygen),
// so that `go mod tidy` keeps their dependencies in go.sum.
package tools

import (
	_ "filippo.io/age/cmd/age"
	_ "filippo.io/age/cmd/age-keygen"
)
