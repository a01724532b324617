package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/reqkey"
	"github.com/ferry-gateway/ferry/storage"
)

// secretCacheKey names the per-install secret the request key's
// credential HMAC uses. A new secret only makes stored answers miss.
const secretCacheKey = "install_key.cache"

// buildCache assembles the canonical request key and the dedup cache: its
// own file cache.db beside ferry.db (a failure there turns the cache off,
// never Ferry), the stage, its knobs and its admin API.
func (s *Server) buildCache() error {
	secret, err := s.installKey(secretCacheKey)
	if err != nil {
		return err
	}
	if s.keyer, err = reqkey.New(secret); err != nil {
		return err
	}
	cfg := cache.ConfigFrom(s.registry)
	s.cacheDB = storage.OpenCache(filepath.Join(s.cfg.DataDir, storage.CacheFileName), storage.CacheOptions{
		MaxBytes: cfg.MaxBytes, MaxEntryBytes: cfg.MaxEntryBytes, Logger: s.log,
	})
	s.cache = cache.New(cache.Options{Store: s.cacheDB, CredTag: s.credTag, Config: cfg, Logger: s.log})
	s.cache.Follow(s.registry, s.cacheDB.SetLimits)
	return nil
}

// credTag tags a credential's cache entries (ferry key clear drops them).
func (s *Server) credTag(credential string) string {
	mac := s.keyer.CredentialMAC(credential)
	return hex.EncodeToString(mac[:16])
}

// dropCachedAnswers deletes the cache entries stored for credential.
func (s *Server) dropCachedAnswers(credential string) {
	if credential == "" || s.cacheDB == nil {
		return
	}
	if _, err := s.cacheDB.DropCredential(s.credTag(credential)); err != nil {
		s.log.Warn("cache: could not drop the cleared key's answers", "err", err)
	}
}

// installKey returns the per-install secret stored under name, making one
// (32 random bytes) the first time.
func (s *Server) installKey(name string) ([]byte, error) {
	v, ok, err := s.db.GetSecret(name)
	if err != nil {
		return nil, err
	}
	if ok {
		if b, err := hex.DecodeString(v); err == nil && len(b) >= reqkey.MinSecret {
			return b, nil
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make per-install key %s: %w", name, err)
	}
	if err := s.db.PutSecret(name, hex.EncodeToString(b)); err != nil {
		return nil, err
	}
	return b, nil
}
