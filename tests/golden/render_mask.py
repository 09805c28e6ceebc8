#!/usr/bin/env python3
"""Masks generated key material in `aigw render` YAML output (stdin -> stdout).

In Secrets <A>-gateway-issuer and <A>-mtls-server the tls.crt, tls.key and
ca.crt values become <generated>; so does ca.crt of ConfigMap <A>-gateway-ca
when <A>-gateway-issuer is part of the output (with serverCertRef the CA is
the user's and stays), and ca.crt of Secret <A>-mtls-ca when it is the issuer
certificate (no usable trust bundle yet). Everything else passes through
byte for byte.
"""
import re
import sys

text = sys.stdin.read()
docs = text.split("\n---\n")
issuers = set(re.findall(r"^  name: (\S+)-gateway-issuer$", text, re.M))
# Issuer certificates (base64 as in Secret data): a client CA Secret holding
# one (no usable bundle yet: fail closed) is masked too.
issuer_certs = set()
for doc in docs:
    if re.search(r"^  name: \S+-gateway-issuer$", doc, re.M):
        issuer_certs.update(re.findall(r"^  tls\.crt: (\S+)$", doc, re.M))


def name_of(doc):
    m = re.search(r"^metadata:\n  name: (\S+)$", doc, re.M)
    return m.group(1) if m else ""


out = []
for doc in docs:
    name = name_of(doc)
    is_secret = re.search(r"^kind: Secret$", doc, re.M) is not None
    is_cm = re.search(r"^kind: ConfigMap$", doc, re.M) is not None
    if is_secret and (name.endswith("-gateway-issuer") or name.endswith("-mtls-server")):
        doc = re.sub(r"^(  (?:tls\.crt|tls\.key|ca\.crt)): \S+$", r"\1: <generated>", doc, flags=re.M)
    elif is_secret and name.endswith("-mtls-ca"):
        doc = re.sub(
            r"^(  ca\.crt): (\S+)$",
            lambda m: m.group(1) + (": <generated: gateway issuer>" if m.group(2) in issuer_certs else ": " + m.group(2)),
            doc,
            flags=re.M,
        )
    elif is_cm and name.endswith("-gateway-ca") and name[: -len("-gateway-ca")] in issuers:
        doc = re.sub(r"^  ca\.crt: \|\n(?:    .*\n)+", "  ca.crt: <generated>\n", doc, flags=re.M)
    out.append(doc)
sys.stdout.write("\n---\n".join(out))
