// Recipe for the interop tests' age CLI: the reference implementation's `age` and `age-keygen`,
// which must read what the operator's codec writes (and the other way around) with the same key file.
module qdrant-operator/testenv/age

go 1.26.0

require filippo.io/age v1.3.2

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	filippo.io/hpke v0.4.0 // indirect
	filippo.io/nistec v0.0.4 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/term v0.45.0 // indirect
)
