package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Secret names in the database's secrets bucket.
const (
	secretLocalToken = "local_token"
	secretAPIKey     = "api_key"
)

// Keyring service and account under which the API key is kept in the OS
// keychain (macOS Keychain, Windows Credential Manager, Secret Service).
const (
	keyringService = "Ferry"
	keyringUser    = "anthropic-api-key"
)

// SecretStore is the part of the database Keys needs.
type SecretStore interface {
	GetSecret(name string) (string, bool, error)
	PutSecret(name, value string) error
	DeleteSecret(name string) error
}

// Where the API key Ferry holds comes from.
const (
	KeyFromNone     = "none"
	KeyFromEnv      = "environment"
	KeyFromKeychain = "keychain"
	KeyFromDatabase = "database"
)

// Keys holds the local token clients send instead of the real key, and the
// user's real Anthropic key when Ferry holds one. Safe for concurrent use:
// the proxy reads it on every request while the UI or CLI may change it.
type Keys struct {
	store      SecretStore
	useKeyring bool

	mu        sync.RWMutex
	token     string
	apiKey    string
	keySource string
}

// loadKeys reads the local token (creating it on the first start) and the
// API key: FERRY_API_KEY wins, then the OS keychain, then the database.
func loadKeys(store SecretStore, envKey string, useKeyring bool) (*Keys, error) {
	k := &Keys{store: store, useKeyring: useKeyring, keySource: KeyFromNone}
	tok, ok, err := store.GetSecret(secretLocalToken)
	if err != nil {
		return nil, fmt.Errorf("read local token: %w", err)
	}
	if !ok {
		if tok, err = k.newToken(); err != nil {
			return nil, err
		}
	}
	k.token = tok
	switch {
	case envKey != "":
		k.apiKey, k.keySource = envKey, KeyFromEnv
	default:
		if useKeyring {
			if v, err := keyringGet(); err == nil && v != "" {
				k.apiKey, k.keySource = v, KeyFromKeychain
				break
			}
		}
		v, ok, err := store.GetSecret(secretAPIKey)
		if err != nil {
			return nil, fmt.Errorf("read API key: %w", err)
		}
		if ok {
			k.apiKey, k.keySource = v, KeyFromDatabase
		}
	}
	return k, nil
}

func (k *Keys) newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make local token: %w", err)
	}
	tok := "sk-ferry-" + hex.EncodeToString(b)
	if err := k.store.PutSecret(secretLocalToken, tok); err != nil {
		return "", fmt.Errorf("save local token: %w", err)
	}
	return tok, nil
}

// LocalToken is the token clients send in place of the real key.
func (k *Keys) LocalToken() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.token
}

// APIKey is the real key Ferry swaps in, or "" when it holds none.
func (k *Keys) APIKey() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.apiKey
}

// KeySource says where the held key came from (KeyFrom…).
func (k *Keys) KeySource() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keySource
}

// RegenerateToken replaces the local token; clients using the old one get 401.
func (k *Keys) RegenerateToken() (string, error) {
	tok, err := k.newToken()
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	k.token = tok
	k.mu.Unlock()
	return tok, nil
}

// SetAPIKey stores the user's real key: in the OS keychain when there is
// one, otherwise in the 0600 database.
func (k *Keys) SetAPIKey(key string) (source string, err error) {
	if key == "" {
		return "", errors.New("empty API key")
	}
	source = KeyFromDatabase
	if k.useKeyring && keyringSet(key) == nil {
		source = KeyFromKeychain
		// A copy left in the database would outlive the keychain entry.
		if err := k.store.DeleteSecret(secretAPIKey); err != nil {
			return "", fmt.Errorf("remove old key from database: %w", err)
		}
	} else if err := k.store.PutSecret(secretAPIKey, key); err != nil {
		return "", fmt.Errorf("save API key: %w", err)
	}
	k.mu.Lock()
	k.apiKey, k.keySource = key, source
	k.mu.Unlock()
	return source, nil
}

// ClearAPIKey forgets the held key everywhere Ferry keeps it.
func (k *Keys) ClearAPIKey() error {
	if k.useKeyring {
		_ = keyringDelete() // absent is fine
	}
	if err := k.store.DeleteSecret(secretAPIKey); err != nil {
		return fmt.Errorf("remove API key: %w", err)
	}
	k.mu.Lock()
	k.apiKey, k.keySource = "", KeyFromNone
	k.mu.Unlock()
	return nil
}

// MaskKey shows a key as its first 7 and last 4 characters, never whole.
func MaskKey(key string) string {
	if len(key) <= 12 {
		return "***"
	}
	return key[:7] + "…" + key[len(key)-4:]
}

// keyringAvailable says whether to try the OS keychain at all. On Linux the
// Secret Service lives on the session D-Bus; without one, go-keyring would
// try to autolaunch a bus, which on a server only wastes seconds.
func keyringAvailable(getenv func(string) string) bool {
	if getenv("FERRY_KEYRING") == "off" {
		return false
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" {
		return getenv("DBUS_SESSION_BUS_ADDRESS") != ""
	}
	return true
}

// keyringTimeout bounds each keychain call: go-keyring takes no context, and
// a Secret Service that never answers must not hang start-up.
const keyringTimeout = 3 * time.Second

func keyringCall(f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1) // buffered: a late answer never blocks the goroutine
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(keyringTimeout):
		return "", errors.New("OS keychain did not answer")
	}
}

func keyringGet() (string, error) { return keyringGetAccount(keyringUser) }

func keyringSet(v string) error { return keyringSetAccount(keyringUser, v) }

func keyringDelete() error { return keyringDeleteAccount(keyringUser) }

// The keychain entries Ferry keeps are all under the service "Ferry":
// account "anthropic-api-key" for the API key, "route-password:NAME" for
// each route's proxy password.
func keyringGetAccount(account string) (string, error) {
	return keyringCall(func() (string, error) { return keyring.Get(keyringService, account) })
}

func keyringSetAccount(account, v string) error {
	_, err := keyringCall(func() (string, error) { return "", keyring.Set(keyringService, account, v) })
	return err
}

func keyringDeleteAccount(account string) error {
	_, err := keyringCall(func() (string, error) { return "", keyring.Delete(keyringService, account) })
	return err
}
