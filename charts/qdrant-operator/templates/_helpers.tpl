{{/* Names and labels shared by every template. */}}

{{/* The name of the manager's objects: the release's name when it already says qdrant-operator. */}}
{{- define "qdrant-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "qdrant-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "qdrant-operator.labels" -}}
{{ include "qdrant-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "qdrant-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
The rules of a generated Role or ClusterRole (the chart's rbac/, copied from deploy/rbac/ by
charts/generate.ts), never written here again.
*/}}
{{- define "qdrant-operator.rules" -}}
{{- $role := .Files.Get (printf "rbac/%s" .file) | fromYaml -}}
{{- if not $role.rules -}}
{{- fail (printf "rbac/%s has no rules: run npm run generate" .file) -}}
{{- end -}}
{{- toYaml $role.rules -}}
{{- end -}}
