package route

import (
	"net"
	"syscall"
)

// quickAck makes c, a connection to a route's proxy, acknowledge what it
// receives at once. The local proxy a user's road starts with often
// leaves Nagle's algorithm on (microsocks,
// shadowsocks-libev without --no-delay): it holds each small write, an
// answer's next event, until its last one is acknowledged, and Linux
// delays that acknowledgement up to 40 ms once a connection looks
// interactive. With 16 streams on one connection the delay hit every
// stream's first token: 1.31–1.36× a single stream's time where the
// proxy set TCP_NODELAY gave 1.03–1.10× (scripts/roadbench -near, README).
// TCP_QUICKACK is not sticky on Linux: it is set again after every read
// that received data (one setsockopt, about a microsecond).
func quickAck(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{Conn: c, rc: rc}
	q.arm()
	return q
}

type quickAckConn struct {
	net.Conn
	rc syscall.RawConn
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.arm()
	}
	return n, err
}

// arm sends an acknowledgement that is due now and leaves the delayed
// mode. An error (the socket closed under us) changes nothing a read or
// write would not report itself.
func (c *quickAckConn) arm() {
	_ = c.rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
