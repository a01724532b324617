package storage

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const crashEnv = "FERRY_STORAGE_CRASH_DB"

// TestHelperProcess is the child of TestKill9KeepsFlushedRecords: it records
// as fast as it can into the database named by $FERRY_STORAGE_CRASH_DB and
// prints "flushed <id> <request id>" for each record once its batch has
// committed, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestKill9KeepsFlushedRecords")
	}
	db, err := Open(path, Options{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	rec := NewRecorder(db, RecorderOptions{
		FlushInterval: 2 * time.Millisecond,
		MaxBatch:      256,
		OnCommit: func(recs []Record) {
			for _, r := range recs {
				fmt.Fprintf(out, "flushed %d %s\n", r.ID, r.RequestID)
			}
			out.Flush() // acknowledged only once committed
		},
	})
	go rec.Run(context.Background())
	gen := os.Getenv("FERRY_STORAGE_CRASH_GEN")
	for i := 0; ; i++ {
		rec.Record(Record{
			Time:      time.Now(),
			Path:      "/v1/messages",
			Status:    200,
			RequestID: gen + "-" + strconv.Itoa(i),
			Tokens:    Tokens{Input: int64(i)},
			Total:     time.Duration(i) * time.Microsecond,
		})
		if i%64 == 0 {
			time.Sleep(100 * time.Microsecond) // stay under the queue's capacity
		}
	}
}

// TestKill9KeepsFlushedRecords runs a child that writes continuously, kills
// it with SIGKILL in the middle of its writes, and checks that the file
// opens cleanly and holds every record the child saw committed. Three
// rounds on the same file, so recovery is also tested on a recovered file.
func TestKill9KeepsFlushedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := filepath.Join(t.TempDir(), "ferry.db")
	acked := map[uint64]string{}
	for round := range 3 {
		gen := "g" + strconv.Itoa(round)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, "FERRY_STORAGE_CRASH_GEN="+gen)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		seen, killed := 0, false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "flushed" {
				continue // test framework chatter
			}
			id, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked[id] = f[2]
			seen++
			// Kill once it has committed a good number of batches; it is
			// writing the next one all the time.
			if seen == 3000 && !killed {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
					t.Fatal(err)
				}
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child stopped after %d acknowledged records without being killed", round, seen)
		}

		db, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		err = db.bolt.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: consistency check: %v", round, err)
		}
		stored := map[uint64]string{}
		if err := db.EachRecord(time.Time{}, time.Time{}, func(r Record) error {
			stored[r.ID] = r.RequestID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for id, reqID := range acked {
			if got, ok := stored[id]; !ok {
				t.Fatalf("round %d: record %d (%s) was acknowledged as flushed but is gone", round, id, reqID)
			} else if got != reqID {
				t.Fatalf("round %d: record %d holds %s, want %s", round, id, got, reqID)
			}
		}
		// Rollups were written in the same transactions, so they agree.
		s, err := db.Summary(time.Unix(0, 0), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if s.Requests != uint64(len(stored)) {
			t.Fatalf("round %d: rollups count %d requests, file holds %d records", round, s.Requests, len(stored))
		}
		t.Logf("round %d: %d acknowledged, %d stored", round, len(acked), len(stored))
		db.Close()
	}
}
