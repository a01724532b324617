package reqkey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Request is what the key is computed from: the request as it will be
// forwarded, after the request filters.
type Request struct {
	Method   string
	Path     string // e.g. /v1/messages
	RawQuery string // as sent, e.g. beta=true
	Body     []byte // the buffered body; nil for none
	// Version is the anthropic-version header.
	Version string
	// Betas are the anthropic-beta header's values (each may hold a
	// comma-separated list); they are compared as a set.
	Betas []string
	// FilterVersion identifies the request filter set in force: the same
	// prompt filtered by another rule set is another request.
	FilterVersion string
	// Credential is the full key or token that will be sent upstream.
	Credential string
}

// MinSecret is the shortest per-install secret New accepts.
const MinSecret = 16

// ErrShortSecret: New was given a secret too short to key an HMAC.
var ErrShortSecret = errors.New("reqkey: per-install secret shorter than 16 bytes")

// Keyer computes request keys under one per-install secret. It is safe for
// concurrent use.
type Keyer struct {
	secret []byte
	last   atomic.Pointer[credMAC] // the last credential's HMAC: most installs use one
	pool   sync.Pool               // *canon
}

type credMAC struct {
	cred string
	mac  [sha256.Size]byte
}

// New returns a Keyer whose credential HMACs use secret (kept by the
// caller, e.g. in the install's secrets file; a new secret makes every
// stored key miss, which is safe).
func New(secret []byte) (*Keyer, error) {
	if len(secret) < MinSecret {
		return nil, ErrShortSecret
	}
	return &Keyer{secret: slices.Clone(secret)}, nil
}

// CredentialMAC is the HMAC-SHA256 of credential under the install's
// secret: what the key holds of the credential, and what the cache's
// entries carry so a key's entries can be dropped (ferry key clear).
func (k *Keyer) CredentialMAC(credential string) [sha256.Size]byte {
	if l := k.last.Load(); l != nil && l.cred == credential {
		return l.mac
	}
	h := hmac.New(sha256.New, k.secret)
	h.Write([]byte(credential))
	c := &credMAC{cred: credential}
	h.Sum(c.mac[:0])
	k.last.Store(c)
	return c.mac
}

// Body domains: a valid JSON body is keyed by its canonical form, any
// other by its raw bytes; the tag keeps the two apart.
const (
	domainJSON = 'j'
	domainRaw  = 'r'
)

// maxPooled bounds the buffers kept for reuse: a rare 30 MB body must not
// pin 30 MB for the life of the process.
const maxPooled = 4 << 20

// Key returns the canonical request key of r: 64 hex digits of a SHA-256
// over everything Request lists, the body in its canonical form.
func (k *Keyer) Key(r Request) string {
	c, _ := k.pool.Get().(*canon)
	if c == nil {
		c = &canon{}
	}
	out := append(c.out[:0], "ferry-reqkey-1"...)
	out = appendField(out, r.Method)
	out = appendField(out, r.Path)
	out = appendField(out, r.RawQuery)
	out = appendField(out, r.Version)
	betas := betaSet(r.Betas)
	out = binary.BigEndian.AppendUint32(out, uint32(len(betas)))
	for _, b := range betas {
		out = appendField(out, b)
	}
	out = appendField(out, r.FilterVersion)
	mac := k.CredentialMAC(r.Credential)
	out = append(out, mac[:]...)
	head := len(out)
	c.out = append(out, domainJSON)
	if !c.document(r.Body) {
		c.out = append(append(c.out[:head], domainRaw), r.Body...)
	}
	sum := sha256.Sum256(c.out)
	if cap(c.out) <= maxPooled && cap(c.scratch) <= maxPooled {
		k.pool.Put(c)
	}
	return hex.EncodeToString(sum[:])
}

// appendField appends s length-prefixed, so fields can't run together.
func appendField(out []byte, s string) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
	return append(out, s...)
}

// betaSet splits the anthropic-beta values on commas and returns the
// distinct non-empty names, trimmed and sorted: Claude Code assembles the
// header per request, and order carries no meaning.
func betaSet(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	var set []string
	for _, v := range values {
		for b := range strings.SplitSeq(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				set = append(set, b)
			}
		}
	}
	slices.Sort(set)
	return slices.Compact(set)
}
