#!/usr/bin/env bash
# Used by the *.prepare.sh hooks of the render golden cases: writes, into the
# objects folder $1, the Secrets aigw would have generated earlier for
# AIAccessPolicy team-a/team-a-mtls (issuer CA team-a-mtls-gateway-issuer and
# server leaf team-a-mtls-mtls-server), with keys made now in a temporary
# folder. The SANs are those intent_access_build derives from _mtls.objects.
# $2: the leaf's lifetime in days (default 90).
set -euo pipefail
dir=$1 days=${2:-90}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out ca.key
openssl req -x509 -new -key ca.key -out ca.crt -days 3650 -subj "/CN=aigw gateway issuer team-a-mtls" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out leaf.key
openssl req -new -key leaf.key -out leaf.csr -subj "/CN=envoy-team-a-ai-gateway-1a2b3c4d" 2>/dev/null
svc=envoy-team-a-ai-gateway-1a2b3c4d ns=envoy-gateway-system
cat > ext.cnf <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$svc,DNS:$svc.$ns,DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local,DNS:ai.team-a.example.com,IP:10.96.0.50,IP:203.0.113.10
EXT
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out leaf.crt -days "$days" \
  -extfile ext.cnf 2>/dev/null
b64() { base64 -w0 < "$1"; }
cat > "$dir/generated-secrets.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: team-a-mtls-gateway-issuer
  namespace: team-a
type: kubernetes.io/tls
data:
  tls.crt: $(b64 ca.crt)
  tls.key: $(b64 ca.key)
---
apiVersion: v1
kind: Secret
metadata:
  name: team-a-mtls-mtls-server
  namespace: team-a
type: kubernetes.io/tls
data:
  tls.crt: $(b64 leaf.crt)
  tls.key: $(b64 leaf.key)
  ca.crt: $(b64 ca.crt)
YAML
