package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// hint is a wrapped, low-importance label: the line of explanation under a
// setting, a form or a card, the same on every page.
func hint(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

// showFailure puts why a page's section could not be read in its place.
func showFailure(box *fyne.Container, err error) {
	box.Objects = []fyne.CanvasObject{widget.NewLabel(err.Error())}
	box.Refresh()
}
