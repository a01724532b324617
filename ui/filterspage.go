package ui

import (
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The settings page "Filters" (issue 11): the filter lists (the built-in
// secrets list, the user's keyword lists, Chinese compliance lists among
// them) with their switches and actions, each list's entries, the hits,
// and a "Try it" box.

// ruleHitsWindow is how many recent records the per-entry hit counts
// read: the rollups count hits by list only.
const ruleHitsWindow = 1000

// listHitsSpan is the window of the per-list hit counts (the rollups).
const listHitsSpan = 30 * 24 * time.Hour

// filtersView is the page's state. Main goroutine only, except where a
// background fetch hands its results over with fyne.Do.
type filtersView struct {
	d        *Desktop
	w        fyne.Window
	box      *fyne.Container
	lists    []FilterList
	listHits map[string]int64
	ruleHits map[string]map[int]int64
}

func (d *Desktop) filtersPage(w fyne.Window) fyne.CanvasObject {
	v := &filtersView{d: d, w: w, box: container.NewVBox()}
	v.reload()
	v.fetchHits()

	help := hint(lang.L("Filter lists look at every request before it leaves this computer (and, where a list says so, at the answers): a match is redacted (replaced by a placeholder naming the rule), blocked (the request is refused) or only recorded. Redacting answers is for the careful: the client sends the redacted answer back in its history next turn."))
	add := widget.NewButtonWithIcon(lang.L("New list…"), theme.ContentAddIcon(), v.newListDialog)
	imp := widget.NewButtonWithIcon(lang.L("Import list…"), theme.FolderOpenIcon(), v.importFile)

	sample := widget.NewMultiLineEntry()
	sample.SetPlaceHolder(lang.L("Paste text to see what Ferry would send"))
	sample.SetMinRowsVisible(3)
	result, matches := widget.NewLabel(""), widget.NewLabel("")
	result.Wrapping, matches.Wrapping = fyne.TextWrapBreak, fyne.TextWrapWord
	result.Selectable = true
	sample.OnChanged = func(text string) {
		if text == "" {
			result.SetText("")
			matches.SetText("")
			return
		}
		d.background(func() {
			ctx, cancel := d.queryCtx()
			defer cancel()
			r, err := d.core.TestFilters(ctx, text)
			fyne.Do(func() {
				if sample.Text != text { // typed on meanwhile: a later call answers
					return
				}
				if err != nil {
					matches.SetText(err.Error())
					return
				}
				result.SetText(r.Text)
				matches.SetText(TestResultText(r))
			})
		})
	}
	try := widget.NewCard("", lang.L("Try it"), container.NewVBox(sample, result, matches))
	return container.NewVScroll(container.NewVBox(help, container.NewHBox(add, imp), v.box, try))
}

// reload reads the lists and rebuilds the rows.
func (v *filtersView) reload() {
	ctx, cancel := v.d.queryCtx()
	defer cancel()
	lists, err := v.d.core.FilterLists(ctx)
	if err != nil {
		showFailure(v.box, err)
		return
	}
	v.lists = lists
	v.rebuild()
}

// fetchHits reads the hits per list (30 days of rollups) and per entry
// (the recent records) off the main goroutine.
func (v *filtersView) fetchHits() {
	v.d.background(func() {
		ctx, cancel := v.d.queryCtx()
		defer cancel()
		now := v.d.opts.Now()
		st, err := v.d.core.Stats(ctx, now.Add(-listHitsSpan), now.Add(time.Minute))
		if err != nil {
			v.d.log.Warn("filter hits", "err", err)
			return
		}
		recs, err := v.d.core.Recent(ctx, ruleHitsWindow)
		if err != nil {
			v.d.log.Warn("filter hits", "err", err)
			return
		}
		fyne.Do(func() {
			v.listHits, v.ruleHits = st.FilterHits, RuleHits(recs)
			v.rebuild()
		})
	})
}

// modeSelect is a list's action on one side; set receives the chosen
// mode as SetFilterMode takes it.
func modeSelect(mode string, set func(string)) *widget.Select {
	s := widget.NewSelect(listModeOptions(), nil)
	s.SetSelectedIndex(max(slices.Index(listModes, mode), 0))
	s.OnChanged = func(string) {
		m := listModes[s.SelectedIndex()]
		if m == "" {
			m = coreapi.FilterByEntry
		}
		set(m)
	}
	return s
}

func (v *filtersView) rebuild() {
	var rows []fyne.CanvasObject
	for _, l := range v.lists {
		name := l.Name
		on := widget.NewCheck(name, nil)
		on.SetChecked(l.Enabled)
		on.OnChanged = func(b bool) {
			v.d.showError(v.d.core.SetFilterListEnabled(name, b), v.w)
			v.reload()
		}
		title := container.NewHBox(on)
		if l.Builtin {
			b := widget.NewLabel(lang.L("(built-in)"))
			b.Importance = widget.LowImportance
			title.Add(b)
		}
		summary := widget.NewLabel(ListText(l, v.listHits[name]))
		req := modeSelect(l.RequestMode, func(m string) {
			v.d.showError(v.d.core.SetFilterMode(name, m, ""), v.w)
			v.reload()
		})
		resp := modeSelect(l.ResponseMode, func(m string) {
			v.d.showError(v.d.core.SetFilterMode(name, "", m), v.w)
			v.reload()
		})
		buttons := container.NewHBox(widget.NewButton(lang.L("Entries…"), func() { v.editor(name) }),
			widget.NewButton(lang.L("Export…"), func() { v.exportFile(name) }))
		if !l.Builtin {
			buttons.Add(widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
				dialog.ShowConfirm(lang.L("Delete list"), lang.L("Delete the list {{.Name}} and its entries?", map[string]any{"Name": name}), func(ok bool) {
					if ok {
						v.d.showError(v.d.core.DeleteFilterList(name), v.w)
						v.reload()
					}
				}, v.w)
			}))
		}
		modes := widget.NewForm(widget.NewFormItem(lang.L("On requests"), req), widget.NewFormItem(lang.L("On answers"), resp))
		rows = append(rows, container.NewBorder(nil, nil, title, buttons, summary), modes, widget.NewSeparator())
	}
	if len(v.lists) == 0 {
		rows = append(rows, widget.NewLabel(lang.L("No filter lists.")))
	}
	v.box.Objects = rows
	v.box.Refresh()
}

// entryForm is the add-entry fields; a new list starts with its first
// entry.
type entryForm struct {
	pattern       *widget.Entry
	regex         *widget.Check
	action, scope *widget.Select
}

func newEntryForm() *entryForm {
	f := &entryForm{pattern: widget.NewEntry(), regex: widget.NewCheck(lang.L("Regular expression (RE2)"), nil),
		action: widget.NewSelect(entryActionOptions(), nil), scope: widget.NewSelect(entryScopeOptions(), nil)}
	f.pattern.SetPlaceHolder(lang.L("a keyword, or a pattern such as proj-[0-9]+"))
	f.action.SetSelectedIndex(0)
	f.scope.SetSelectedIndex(0)
	return f
}

func (f *entryForm) items() []*widget.FormItem {
	return []*widget.FormItem{
		widget.NewFormItem(lang.L("Keyword or pattern"), f.pattern),
		widget.NewFormItem("", f.regex),
		widget.NewFormItem(lang.L("Action"), f.action),
		widget.NewFormItem(lang.L("Applies to"), f.scope),
	}
}

func (f *entryForm) entry() (FilterEntry, error) {
	return NewFilterEntry(f.pattern.Text, f.regex.Checked, f.action.SelectedIndex(), f.scope.SelectedIndex())
}

// newListDialog makes a user list with its first entry.
func (v *filtersView) newListDialog() {
	name := widget.NewEntry()
	name.SetPlaceHolder(lang.L("e.g. internal-words"))
	f := newEntryForm()
	items := append([]*widget.FormItem{widget.NewFormItem(lang.L("List name"), name)}, f.items()...)
	dialog.ShowForm(lang.L("New list…"), lang.L("Add"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		e, err := f.entry()
		if err == nil {
			_, err = v.d.core.AddFilterEntry(strings.TrimSpace(name.Text), e)
		}
		v.d.showError(err, v.w)
		v.reload()
	}, v.w)
}

// editor shows a list's entries: each with its switch and hits, the
// user's own with a delete button, and a form adding one (a rejected
// entry's reason shown under it).
func (v *filtersView) editor(name string) {
	box := container.NewVBox()
	problem := widget.NewLabel("")
	problem.Wrapping = fyne.TextWrapWord
	problem.Importance = widget.DangerImportance
	var rebuild func()
	rebuild = func() {
		ctx, cancel := v.d.queryCtx()
		defer cancel()
		l, err := v.d.core.FilterList(ctx, name)
		if err != nil {
			showFailure(box, err)
			return
		}
		var rows []fyne.CanvasObject
		for i, e := range l.Entries {
			n := i + 1
			on := widget.NewCheck(EntryText(e), nil)
			on.SetChecked(!e.Disabled)
			on.OnChanged = func(b bool) {
				v.d.showError(v.d.core.SetFilterEntryEnabled(name, n, b), v.w)
				rebuild()
			}
			hits := widget.NewLabel(lang.L("{{.Count}} hits", map[string]any{"Count": v.ruleHits[name][n]}))
			var right fyne.CanvasObject = hits
			if !l.Builtin {
				right = container.NewHBox(hits, widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
					v.d.showError(v.d.core.RemoveFilterEntry(name, n), v.w)
					rebuild()
				}))
			}
			rows = append(rows, container.NewBorder(nil, nil, nil, right, on))
		}
		if len(rows) == 0 {
			rows = append(rows, widget.NewLabel(lang.L("No entries yet.")))
		}
		box.Objects = rows
		box.Refresh()
	}
	rebuild()
	note := widget.NewLabel(lang.L("Hits per entry count the last {{.N}} requests.", map[string]any{"N": ruleHitsWindow}))
	note.Importance = widget.LowImportance
	body := container.NewVBox(note, box)
	if l := v.find(name); l == nil || !l.Builtin {
		f := newEntryForm()
		add := widget.NewButtonWithIcon(lang.L("Add entry"), theme.ContentAddIcon(), func() {
			e, err := f.entry()
			if err == nil {
				_, err = v.d.core.AddFilterEntry(name, e)
			}
			if err != nil {
				problem.SetText(err.Error())
				return
			}
			problem.SetText("")
			f.pattern.SetText("")
			rebuild()
		})
		body.Add(widget.NewSeparator())
		body.Add(widget.NewForm(f.items()...))
		body.Add(container.NewHBox(add))
		body.Add(problem)
	}
	dlg := dialog.NewCustom(lang.L("Entries of {{.Name}}", map[string]any{"Name": name}), lang.L("Close"), container.NewVScroll(body), v.w)
	dlg.SetOnClosed(v.reload)
	dlg.Resize(fyne.NewSize(680, 520))
	dlg.Show()
}

func (v *filtersView) find(name string) *FilterList {
	for i := range v.lists {
		if v.lists[i].Name == name {
			return &v.lists[i]
		}
	}
	return nil
}
