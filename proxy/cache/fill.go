package cache

import (
	"io"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// fill stores a complete answer if it is useful (see useful).
func (c *Cache) fill(key, cred string, k kind, h head, body []byte) {
	if !useful(k, h, body) {
		return
	}
	now := c.now()
	c.store.Put(storage.CacheEntry{Key: key, Cred: cred, Stored: now, Expires: now.Add(c.config().ttl(k)),
		Head: h.encode(), Body: body})
}

// teeFill stores the answer of a request that goes upstream on its own
// (x-ferry-cache: bypass, Cache-Control: no-cache, or too late to join a
// large one) as it is relayed: the body is kept as it passes, up to
// max_entry_bytes, and stored at its clean end.
func (c *Cache) teeFill(out *proxy.Outgoing, k kind, res *proxy.Response) {
	if res.Body == nil || res.Status != 0 && res.Status != 200 {
		return
	}
	res.Body = &tee{rc: res.Body, c: c, key: out.Key, cred: c.credTag(out), kind: k,
		head: headOf(res.Status, res.Header), limit: c.store.MaxEntryBytes(), length: declaredLength(res.Header)}
}

type tee struct {
	rc    io.ReadCloser
	c     *Cache
	key   string
	cred  string
	kind  kind
	head  head
	limit int64
	// length is the declared length, -1 if none: reaching it stores the
	// answer before its last bytes go out (see flight.length).
	length int64
	read   int64
	buf    []byte
	over   bool
	done   bool
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.read += int64(n)
	end := err == io.EOF || err == nil && n > 0 && t.read == t.length
	if n > 0 && !t.over {
		if int64(len(t.buf)+n) > t.limit {
			t.over, t.buf = true, nil
		} else {
			t.buf = append(t.buf, p[:n]...)
		}
	}
	if end && !t.over && !t.done {
		t.done = true
		t.c.fill(t.key, t.cred, t.kind, t.head, t.buf)
	}
	return n, err
}

func (t *tee) Close() error { return t.rc.Close() }
