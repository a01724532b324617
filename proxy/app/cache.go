package app

import (
	"encoding/hex"
	"path/filepath"

	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/reqkey"
	"github.com/ferry-gateway/ferry/storage"
)

// buildCache assembles the canonical request key and the dedup cache: its
// own file cache.db beside ferry.db (a failure there turns the cache off,
// never Ferry), the stage, its knobs and its admin API.
func (s *Server) buildCache() error {
	// The credential enters the key as an HMAC under a per-install key
	// (secrets.json); a new one only makes stored answers miss.
	secret, err := s.secrets.InstallKey("cache")
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
