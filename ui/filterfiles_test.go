package ui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
)

func TestSuggestListName(t *testing.T) {
	for in, want := range map[string]string{
		"words.txt":           "words",
		"/home/a/敏感词 v2.txt":  "v2",
		"compliance list.TXT": "compliance-list",
		"my_list.v1.txt":      "my_list.v1",
		"敏感词.txt":             "imported",
		".hidden":             "imported",
	} {
		if got := SuggestListName(in); got != want {
			t.Errorf("SuggestListName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Import asks for a file, then which list gets it and whether it replaces
// the list's entries; a bad line is refused with the core's reason.
// Export writes the list to the file chosen.
func TestFilterListFiles(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).filtersPage)
	findButton(t, content, "Import list…").OnTapped()
	overlay(t, w) // the file dialog
	w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())

	v := &filtersView{d: d, w: w, box: container.NewVBox()}
	v.importDialog("compliance words.txt", []byte("# compliance\n机密\n内部\nre:proj-[0-9]+\n"))
	dlg := overlay(t, w)
	if e := find[*widget.Entry](dlg); len(e) != 1 || e[0].Text != "compliance-words" {
		t.Fatalf("suggested name: %q", texts(dlg))
	}
	find[*widget.Entry](dlg)[0].SetText("compliance")
	find[*widget.Check](dlg)[0].SetChecked(true)
	findButton(t, dlg, "Import").OnTapped()
	if got := lastCall(core); got != "ImportFilterList compliance 3 replace=true" {
		t.Fatalf("import: %q", got)
	}
	if !hasText(overlay(t, w), "The list compliance now has 3 entries.") {
		t.Error("import not reported")
	}
	if !hasText(v.box, "compliance") {
		t.Errorf("imported list not shown: %q", texts(v.box))
	}
	w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())

	v.importDialog("bad.txt", []byte("re:(\n"))
	findButton(t, overlay(t, w), "Import").OnTapped()
	if !hasText(overlay(t, w), "ine 1: error parsing regexp") {
		t.Errorf("a bad line not explained: %q", texts(overlay(t, w)))
	}
	w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())

	out := filepath.Join(t.TempDir(), "compliance.txt")
	wc, err := storage.Writer(storage.NewFileURI(out))
	if err != nil {
		t.Fatal(err)
	}
	v.exportTo("compliance", wc)
	if b, err := os.ReadFile(out); err != nil || string(b) != "# compliance\n机密\n内部\nre:proj-[0-9]+\n" {
		t.Fatalf("exported %q %v", b, err)
	}
	if !hasText(overlay(t, w), "Saved "+out) {
		t.Error("export not reported")
	}
}
