{{/* Name of the chart, overridable. */}}
{{- define "aigw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object name. */}}
{{- define "aigw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "aigw.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "aigw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aigw
{{- end }}

{{/* Selector labels of one component: include "aigw.selector" (list . "webhook"). */}}
{{- define "aigw.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "aigw.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Labels plus component: include "aigw.componentLabels" (list . "webhook"). */}}
{{- define "aigw.componentLabels" -}}
{{ include "aigw.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Object names. */}}
{{- define "aigw.webhookName" -}}{{ include "aigw.fullname" . }}-webhook{{- end }}
{{- define "aigw.reconcilerName" -}}{{ include "aigw.fullname" . }}-reconciler{{- end }}
{{- define "aigw.certgenName" -}}{{ include "aigw.fullname" . }}-certgen{{- end }}
{{- define "aigw.tlsSecret" -}}{{ include "aigw.fullname" . }}-webhook-tls{{- end }}
{{- define "aigw.validatingName" -}}{{ include "aigw.fullname" . }}-validator{{- end }}
{{- define "aigw.mutatingName" -}}{{ include "aigw.fullname" . }}-injector{{- end }}
{{- define "aigw.injectorConfig" -}}{{ include "aigw.fullname" . }}-injector-config{{- end }}
{{- define "aigw.certificateName" -}}{{ include "aigw.fullname" . }}-webhook{{- end }}

{{/* The aigw image reference. */}}
{{- define "aigw.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end }}

{{/* Pod-level security context shared by every aigw pod. */}}
{{- define "aigw.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
# Secret volume files belong to this group, so the 0440 TLS key is readable.
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security context shared by every aigw container. */}}
{{- define "aigw.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Namespaces no webhook ever sees: the configured system ones and the release namespace. */}}
{{- define "aigw.excludedNamespaces" -}}
{{- $ns := concat .Values.webhook.excludedNamespaces (list .Release.Namespace) | uniq }}
{{- toYaml $ns }}
{{- end }}

{{/* Default anti-affinity spreading one component's replicas over nodes: include "aigw.antiAffinity" (list . "webhook"). */}}
{{- define "aigw.antiAffinity" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "aigw.selector" . | nindent 12 }}
{{- end }}

{{/* Environment every aigw container gets (the reconciler's leader identity uses POD_NAME). */}}
{{- define "aigw.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}
