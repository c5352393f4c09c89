//go:build tools

// Package tools pins the command this recipe builds (helm.sh/helm/v4/cmd/helm), so that `go mod tidy`
// keeps its dependencies in go.sum.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
