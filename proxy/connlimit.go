package proxy

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxConns caps the client connections Serve keeps open. Past it a new
// connection is still accepted and answered 529 overloaded_error with
// retry-after: 1, rather than left waiting in the listen backlog where
// the client cannot tell a busy Ferry from a dead one.
const MaxConns = 8192

// Turning a connection away takes a goroutine for at most turnAwayWait;
// at most maxTurnAway run at once, beyond that the connection is closed
// at once (a flood gets no politeness).
const (
	turnAwayWait = 2 * time.Second
	maxTurnAway  = 64
)

// limitConns wraps ln so that at most limit connections are open.
func (p *Proxy) limitConns(ln net.Listener, limit int) net.Listener {
	return &limitListener{Listener: ln, p: p, limit: int64(limit), turnAway: make(chan struct{}, maxTurnAway)}
}

type limitListener struct {
	net.Listener
	p        *Proxy
	limit    int64
	open     atomic.Int64
	turnAway chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.limit {
			return &countedConn{Conn: c, open: &l.open}, nil
		}
		l.open.Add(-1)
		l.p.countRefusal(RefusedConnections, "", "", StatusOverloaded)
		select {
		case l.turnAway <- struct{}{}:
			go func() {
				defer func() { <-l.turnAway }()
				turnAwayConn(c)
			}()
		default:
			_ = c.Close()
		}
	}
}

// turnAwayConn reads the request's head (so that closing does not reset
// the connection under the client's feet) and answers 529.
func turnAwayConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(turnAwayWait))
	if req, err := http.ReadRequest(bufio.NewReaderSize(c, 4096)); err == nil {
		_ = req.Body.Close()
	}
	body := `{"type":"error","error":{"type":"overloaded_error","message":"Ferry has too many open connections; retry shortly"}}`
	_, _ = c.Write([]byte("HTTP/1.1 529 Overloaded\r\nContent-Type: application/json\r\nRetry-After: 1\r\n" +
		"X-Ferry-Error: 1\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
}

// countedConn gives its slot back when closed, once.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}
