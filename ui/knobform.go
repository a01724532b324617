package ui

import (
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// knobEditor edits the settings registry's knobs under prefixes: one
// input per knob fitting its type, a note under it, and one Save that
// stores what changed. The settings pages of the spend guard and the road
// share it; the registry checks every value, so a bad one comes back as
// the core's error and nothing is stored.
type knobEditor struct {
	d        *Desktop
	w        fyne.Window
	prefixes []string
	box      *fyne.Container
	// inputs read each shown knob's text form, by key.
	inputs map[string]func() string
	knobs  []coreapi.Knob
}

func (d *Desktop) newKnobEditor(w fyne.Window, prefixes ...string) *knobEditor {
	e := &knobEditor{d: d, w: w, prefixes: prefixes, box: container.NewVBox()}
	e.reload()
	return e
}

// object is the editor with its Save button.
func (e *knobEditor) object() fyne.CanvasObject {
	return container.NewVBox(e.box, container.NewHBox(widget.NewButton(lang.L("Save"), e.save)))
}

// reload rereads the knobs and rebuilds the inputs. Main goroutine.
func (e *knobEditor) reload() {
	ctx, cancel := e.d.queryCtx()
	defer cancel()
	knobs, err := e.d.core.Knobs(ctx, e.prefixes...)
	if err != nil {
		showFailure(e.box, err)
		return
	}
	e.knobs, e.inputs = knobs, map[string]func() string{}
	form := widget.NewForm()
	for _, k := range knobs {
		input, read := knobInput(k)
		e.inputs[k.Key] = read
		if k.Stored {
			key := k.Key
			reset := widget.NewButtonWithIcon("", theme.ContentUndoIcon(), func() { e.reset(key) })
			input = container.NewBorder(nil, nil, nil, reset, input)
		}
		form.Append(k.Key, input)
		note := hint(KnobNote(k))
		form.Append("", note)
	}
	e.box.Objects = []fyne.CanvasObject{form}
	e.box.Refresh()
}

// knobInput is the input for k and how to read its value's text form.
func knobInput(k coreapi.Knob) (fyne.CanvasObject, func() string) {
	switch k.Type {
	case coreapi.KnobBool:
		c := widget.NewCheck(lang.L("On"), nil)
		c.SetChecked(k.Value == "on")
		return c, func() string {
			if c.Checked {
				return "on"
			}
			return "off"
		}
	case coreapi.KnobEnum:
		s := widget.NewSelect(k.Values, nil)
		s.SetSelected(k.Value)
		return s, func() string { return s.Selected }
	}
	en := widget.NewEntry()
	en.SetText(k.Value)
	en.SetPlaceHolder(k.Default)
	return en, func() string { return strings.TrimSpace(en.Text) }
}

// KnobNote is the line under a knob: what it does, its default, and when
// a change takes effect.
func KnobNote(k coreapi.Knob) string {
	// The core answers in the windows' language (Accept-Language); a core
	// that answered in English is translated from the shared catalogue.
	s := lang.L(k.Help) + " " + lang.L("(default {{.Default}}).", map[string]any{"Default": k.Default})
	if k.Applies == coreapi.KnobNextStart {
		s += " " + lang.L("Takes effect when Ferry next starts.")
	}
	if k.Override != "" {
		s += " " + lang.L("This run uses {{.Value}} from {{.From}}.", map[string]any{"Value": k.Value, "From": k.Override})
	}
	return s
}

// ChangedKnobs returns the keys and new text of the knobs whose input
// differs from the value in effect, in the knobs' order.
func ChangedKnobs(knobs []coreapi.Knob, read func(key string) string) [][2]string {
	var out [][2]string
	for _, k := range knobs {
		if v := read(k.Key); v != k.Value {
			out = append(out, [2]string{k.Key, v})
		}
	}
	return out
}

func (e *knobEditor) save() {
	ctx, cancel := e.d.queryCtx()
	defer cancel()
	var errs []error
	for _, kv := range ChangedKnobs(e.knobs, func(key string) string { return e.inputs[key]() }) {
		if _, err := e.d.core.SetKnob(ctx, kv[0], kv[1]); err != nil {
			errs = append(errs, err)
		}
	}
	e.d.showError(errors.Join(errs...), e.w)
	// The inputs show what is stored now, the refused values replaced.
	e.reload()
	e.d.wake()
}

func (e *knobEditor) reset(key string) {
	if !slices.ContainsFunc(e.knobs, func(k coreapi.Knob) bool { return k.Key == key }) {
		return
	}
	ctx, cancel := e.d.queryCtx()
	defer cancel()
	_, err := e.d.core.ResetKnob(ctx, key)
	e.d.showError(err, e.w)
	e.reload()
	e.d.wake()
}
