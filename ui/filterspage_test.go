package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// buttons returns the buttons under o labelled label, in order.
func buttons(o fyne.CanvasObject, label string) []*widget.Button {
	var out []*widget.Button
	for _, b := range find[*widget.Button](o) {
		if b.Text == label {
			out = append(out, b)
		}
	}
	return out
}

func isDelete(b *widget.Button) bool {
	return b.Text == "" && b.Icon != nil && strings.Contains(b.Icon.Name(), "delete")
}

// closeOverlay closes the topmost dialog on w.
func closeOverlay(t *testing.T, w fyne.Window) {
	t.Helper()
	findButton(t, overlay(t, w), "Close").OnTapped()
}

// The Filters page: the lists with their switches, actions and hits; the
// built-in list's entries can be turned off but not edited; a user list's
// entries added (a bad regex refused with its reason, nothing added) and
// removed; a new list; deleting a list after confirming; "Try it".
func TestFiltersPage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).filtersPage)

	for _, want := range []string{"secrets", "(built-in)", "2 entries · 5 hits in 30 days", "zh-words", "2 entries · 2 hits in 30 days"} {
		if !hasText(content, want) {
			t.Errorf("page lacks %q: %q", want, texts(content))
		}
	}
	var modes []string
	for _, s := range find[*widget.Select](content) {
		modes = append(modes, s.Selected)
	}
	if want := []string{"Redact", "Record only", "Each entry's own", "Each entry's own"}; !slices.Equal(modes, want) {
		t.Fatalf("modes %q, want %q", modes, want)
	}

	find[*widget.Select](content)[2].SetSelected("Block")
	if got := lastCall(core); got != "SetFilterMode zh-words block " {
		t.Fatalf("request mode: %q", got)
	}
	find[*widget.Select](content)[3].SetSelected("Off")
	if got := lastCall(core); got != "SetFilterMode zh-words  off" {
		t.Fatalf("answer mode: %q", got)
	}
	find[*widget.Select](content)[2].SetSelected("Each entry's own")
	if got := lastCall(core); got != "SetFilterMode zh-words entry " {
		t.Fatalf("back to the entries' own: %q", got)
	}
	find[*widget.Check](content)[0].SetChecked(false)
	if got := lastCall(core); got != "SetFilterListEnabled secrets false" {
		t.Fatalf("list switch: %q", got)
	}
	if find[*widget.Check](content)[0].Checked {
		t.Error("list shown on after turning it off")
	}

	// The built-in list: switches and hits, no editing.
	buttons(content, "Entries…")[0].OnTapped()
	dlg := overlay(t, w)
	for _, want := range []string{"anthropic-key — Anthropic API keys · Redact · Requests only", "github-token — GitHub tokens · Redact · Requests only", "2 hits", "0 hits"} {
		if !hasText(dlg, want) {
			t.Errorf("secrets editor lacks %q: %q", want, texts(dlg))
		}
	}
	if len(buttons(dlg, "Add entry")) != 0 {
		t.Error("the built-in list offers to add entries")
	}
	find[*widget.Check](dlg)[0].SetChecked(false)
	if got := lastCall(core); got != "SetFilterEntryEnabled secrets 1 false" {
		t.Fatalf("entry switch: %q", got)
	}
	closeOverlay(t, w)

	// A user list: add (a bad regex explained), remove.
	buttons(content, "Entries…")[1].OnTapped()
	dlg = overlay(t, w)
	pattern := find[*widget.Entry](dlg)[0]
	pattern.SetText("(")
	find[*widget.Check](dlg)[2].SetChecked(true) // after the two entries: "Regular expression"
	findButton(t, dlg, "Add entry").OnTapped()
	if !hasText(dlg, "missing closing )") {
		t.Errorf("bad regex not explained: %q", texts(dlg))
	}
	if l, _ := core.FilterList(d.ctx, "zh-words"); len(l.Entries) != 2 {
		t.Fatalf("a bad regex was added: %+v", l.Entries)
	}
	find[*widget.Check](dlg)[2].SetChecked(false)
	pattern.SetText("绝密")
	find[*widget.Select](dlg)[1].SetSelected("Requests and answers")
	findButton(t, dlg, "Add entry").OnTapped()
	if got := lastCall(core); got != `AddFilterEntry zh-words "绝密" regex=false redact both` {
		t.Fatalf("add: %q", got)
	}
	if !hasText(dlg, "绝密 · Redact · Requests and answers") || hasText(dlg, "missing closing") {
		t.Errorf("editor after add: %q", texts(dlg))
	}
	var deletes []*widget.Button
	for _, b := range find[*widget.Button](dlg) {
		if isDelete(b) {
			deletes = append(deletes, b)
		}
	}
	if len(deletes) != 3 {
		t.Fatalf("%d delete buttons for 3 entries", len(deletes))
	}
	deletes[0].OnTapped()
	if got := lastCall(core); got != "RemoveFilterEntry zh-words 1" {
		t.Fatalf("remove: %q", got)
	}
	closeOverlay(t, w)
	if !hasText(content, "2 entries · 2 hits in 30 days") {
		t.Errorf("list row not refreshed: %q", texts(content))
	}

	// "Try it" shows what the text becomes and why.
	sample := find[*widget.Entry](content)[0]
	sample.SetText("内部 notes")
	if !hasText(content, "[FILTERED:zh-words-1:0000] notes") || !hasText(content, "Blocked: blocked by zh-words-1") {
		t.Errorf("try it: %q", texts(content))
	}

	// A new list with its first entry.
	findButton(t, content, "New list…").OnTapped()
	dlg = overlay(t, w)
	es := find[*widget.Entry](dlg)
	es[0].SetText("projects")
	es[1].SetText(`proj-[0-9]+`)
	find[*widget.Check](dlg)[0].SetChecked(true)
	find[*widget.Select](dlg)[0].SetSelected("Block")
	findButton(t, dlg, "Add").OnTapped()
	if got := lastCall(core); got != `AddFilterEntry projects "proj-[0-9]+" regex=true block request` {
		t.Fatalf("new list: %q", got)
	}
	if !hasText(content, "projects") {
		t.Errorf("new list not shown: %q", texts(content))
	}

	// Deleting a list asks first.
	var del *widget.Button
	for _, b := range find[*widget.Button](content) {
		if isDelete(b) {
			del = b // the last list's: projects
		}
	}
	del.OnTapped()
	if got := lastCall(core); got == "DeleteFilterList projects" {
		t.Fatal("deleted without confirmation")
	}
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if got := lastCall(core); got != "DeleteFilterList projects" {
		t.Fatalf("delete: %q", got)
	}
}
