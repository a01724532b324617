package adminclient

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// maxEventLine bounds one line of the event stream (an event's JSON).
const maxEventLine = 1 << 20

// reconnectDelay is the wait before reconnecting a dropped stream.
const reconnectDelay = 500 * time.Millisecond

// Subscribe follows GET /_ferry/events until cancel is called. Events
// arrive in the core's order; a dropped connection is resumed with
// Last-Event-ID, so nothing is lost while the core lives, and what the
// core could not keep arrives as an events.Gap event (refetch). When the
// channel is full an event is dropped and a Gap takes its place, as the
// core's own bus does. The channel closes after cancel.
//
// Subscribe returns once the first connection is open (or has failed,
// or quickTimeout passed): whatever the caller reads from the core after
// it is either in that state already or arrives as an event.
func (c *Client) Subscribe(buf int) (<-chan events.Event, func()) {
	ch := make(chan events.Event, max(buf, 1))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	first := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(ch)
		c.follow(ctx, ch, first)
	}()
	select {
	case <-first:
	case <-time.After(quickTimeout):
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// follow reads the stream, reconnecting until ctx ends.
// first is closed once the first connection is open or has failed.
func (c *Client) follow(ctx context.Context, ch chan<- events.Event, first chan struct{}) {
	var once sync.Once
	opened := func() { once.Do(func() { close(first) }) }
	defer opened()
	lastID := ""
	lost := false // an event was dropped for a full channel: send a gap when there is room
	deliver := func(e events.Event) {
		if lost {
			select {
			case ch <- events.Event{Kind: events.Gap, Time: time.Now(), Detail: "-1"}:
				lost = false
			default:
			}
		}
		select {
		case ch <- e:
		default:
			lost = true
		}
	}
	for ctx.Err() == nil {
		err := c.readStream(ctx, &lastID, deliver, opened)
		opened()
		if ctx.Err() != nil {
			return
		}
		_ = err // the stream ends when the core restarts its listener or goes; retry while wanted
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectDelay):
		}
	}
}

// readStream reads one connection's events; lastID is updated as they
// come so that the next connection resumes after them.
func (c *Client) readStream(ctx context.Context, lastID *string, deliver func(events.Event), opened func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_ferry/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Ferry-Admin-Token", c.token)
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event stream: %s", resp.Status)
	}
	opened()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxEventLine)
	var id, name, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name != "" {
				if e, err := events.Decode(name, []byte(data)); err == nil {
					deliver(e)
				}
			}
			if id != "" {
				*lastID = id
			}
			id, name, data = "", "", ""
		case strings.HasPrefix(line, ":"): // heartbeat or greeting
		case strings.HasPrefix(line, "id: "):
			id = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
	return sc.Err()
}
