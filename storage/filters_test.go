package storage

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Filter lists survive a reopen of a real file, and their bounds hold.
func TestFilterLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList("secrets", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList("机密", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList(strings.Repeat("x", MaxFilterListName+1), nil); err == nil {
		t.Fatal("long name accepted")
	}
	if err := db.PutFilterList("big", make([]byte, MaxFilterListSize+1)); err == nil {
		t.Fatal("oversized list accepted")
	}
	if err := db.DeleteFilterList("机密"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFilterList("missing"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.FilterLists()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got["secrets"]) != `{"v":1}` {
		t.Fatalf("%q", got)
	}
}

// Filter hits are summed per list in the rollups: a window's Summary and
// each Series point say how many matches each list had, on a real file
// reopened, and rollups without hits keep their old bytes.
func TestFilterHitsInRollups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	writeDirect(t, db, []Record{
		{Time: t0, Status: 200, FilterHits: []FilterHit{{List: "secrets", Entry: "4 github-token", Action: "redact", Count: 2}}},
		{Time: t0.Add(time.Minute), Status: 400, FilterHits: []FilterHit{{List: "secrets", Entry: "17 env-secret", Action: "redact", Count: 1}, {List: "words", Entry: "1 words-1", Action: "block", Count: 1}}},
		{Time: t0.Add(2 * time.Hour), Status: 200},
	})
	db.Close()
	if db, err = Open(path, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum, err := db.Summary(t0, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilterHits["secrets"] != 3 || sum.FilterHits["words"] != 1 || len(sum.FilterHits) != 2 || sum.Requests != 3 {
		t.Fatalf("summary hits %v, %d requests", sum.FilterHits, sum.Requests)
	}
	pts, err := db.Series(t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 || pts[0].FilterHits["secrets"] != 3 || pts[1].FilterHits != nil || pts[2].Requests != 1 || pts[2].FilterHits != nil {
		t.Fatalf("series %+v", pts)
	}
	var g rollup
	g.apply(&Record{Time: t0, Status: 200})
	plain := g.encode(nil)
	var again rollup
	if err := again.mergeEncoded(plain); err != nil || again.byFilter != nil {
		t.Fatalf("a rollup without hits: %v %v", err, again.byFilter)
	}
}
