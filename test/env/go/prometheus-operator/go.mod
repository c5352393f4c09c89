// Recipe for the chart tests' monitoring CRDs (ServiceMonitor, PrometheusRule): nothing is built; the
// module's example/prometheus-operator-crd/ is read from the module cache (`go mod download -json`).
module qdrant-operator/testenv/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
