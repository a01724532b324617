//go:build !linux

package route

import "net"

// quickAck is Linux's TCP_QUICKACK (quickack_linux.go); other systems
// have no per-socket switch for delayed acknowledgements, so c is used as
// it is.
func quickAck(c net.Conn) net.Conn { return c }
