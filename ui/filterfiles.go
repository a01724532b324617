package ui

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// Importing and exporting filter lists as plain text files (one entry per
// line, # comments, re:PATTERN for a regex, an optional "action scope"
// prefix), the format `ferry filters import|export` reads and writes.

// maxImportBytes bounds a file read for import: compliance keyword lists
// run to thousands of lines, far below this.
const maxImportBytes = 16 << 20

// importTimeout bounds an import or export: a large list is parsed and
// compiled by the core.
const importTimeout = time.Minute

// SuggestListName makes a list name from a file name: its base without
// the extension, with what a list name cannot hold (anything but ASCII
// letters, digits, '_', '.', '-') turned into '-'.
func SuggestListName(file string) string {
	base := strings.TrimSuffix(path.Base(file), path.Ext(file))
	name := []byte(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, base))
	s := strings.TrimLeft(string(name), "-_.")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "imported"
	}
	return s
}

// importFile asks for a file, then for the list to import it into.
func (v *filtersView) importFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			v.d.showError(err, v.w)
			return
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
		if err == nil && len(data) > maxImportBytes {
			err = fmt.Errorf("%s", lang.L("the file is larger than 16 MiB"))
		}
		if err != nil {
			v.d.showError(err, v.w)
			return
		}
		v.importDialog(r.URI().Name(), data)
	}, v.w)
}

// importDialog asks which list gets the file's entries, and whether they
// replace its own.
func (v *filtersView) importDialog(file string, data []byte) {
	name := widget.NewEntry()
	name.SetText(SuggestListName(file))
	replace := widget.NewCheck(lang.L("Replace the list's entries"), nil)
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("List name"), name),
		widget.NewFormItem("", replace),
	}
	dialog.ShowForm(lang.L("Import list…"), lang.L("Import"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		list := strings.TrimSpace(name.Text)
		ctx, cancel := context.WithTimeout(v.d.ctx, importTimeout)
		defer cancel()
		n, err := v.d.core.ImportFilterList(ctx, list, data, replace.Checked)
		v.reload()
		if err != nil {
			v.d.showError(err, v.w)
			return
		}
		dialog.ShowInformation(lang.L("Import list…"), lang.L("The list {{.Name}} now has {{.Count}} entries.", map[string]any{"Name": list, "Count": n}), v.w)
	}, v.w)
}

// exportFile asks where to save the list, then writes it there.
func (v *filtersView) exportFile(name string) {
	dlg := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			v.d.showError(err, v.w)
			return
		}
		v.exportTo(name, wc)
	}, v.w)
	dlg.SetFileName(name + ".txt")
	dlg.Show()
}

// exportTo writes the list to wc and closes it.
func (v *filtersView) exportTo(name string, wc fyne.URIWriteCloser) {
	ctx, cancel := context.WithTimeout(v.d.ctx, importTimeout)
	defer cancel()
	err := v.d.core.ExportFilterList(ctx, name, wc)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		v.d.showError(err, v.w)
		return
	}
	dialog.ShowInformation(lang.L("Export…"), lang.L("Saved {{.Path}}", map[string]any{"Path": wc.URI().Path()}), v.w)
}
