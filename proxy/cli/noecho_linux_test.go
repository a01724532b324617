package cli

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// openPTY opens a pseudo-terminal pair: the master the test types into
// and reads the "screen" from, and the slave the command runs on.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open slave: %v", err)
	}
	return m, s
}

// Issue 14: `ferry key set` echoed the pasted key on the terminal, where
// it stays in the scrollback and in screen recordings.
func TestKeySetDoesNotEchoOnATerminal(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "key", "set", "--data-dir", dir)
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "FERRY_KEYRING=off")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var screen testsupport.SyncBuffer
	done := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO when the child exits
		close(done)
	}()
	// Type the key once the prompt is up.
	for i := 0; !strings.Contains(screen.String(), "press Enter"); i++ {
		if i > 1000 {
			t.Fatalf("no prompt: %q", screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	const key = "sk-ant-api03-typed-on-a-terminal-0123456789"
	io.WriteString(master, key+"\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("key set: %v\n%s", err, screen.String())
	}
	<-done
	out := screen.String()
	if strings.Contains(out, key) {
		t.Fatalf("the key was echoed on the terminal:\n%q", out)
	}
	if !strings.Contains(out, "sk-ant-") || !strings.Contains(out, "stored") {
		t.Fatalf("no confirmation with the masked key:\n%q", out)
	}
}
