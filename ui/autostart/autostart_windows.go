//go:build windows

package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// runKeyAutostart registers Ferry under HKCU\…\Run, which Windows reads at
// login; no administrator rights needed.
type runKeyAutostart struct{ exe string }

func newAutostart(goos, home, xdgConfig, exe string) (Autostart, error) {
	return runKeyAutostart{exe: exe}, nil
}

func (r runKeyAutostart) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return false, fmt.Errorf("start at login: open Run key: %w", err)
	}
	defer k.Close()
	_, _, err = k.GetStringValue("Ferry")
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start at login: read Run key: %w", err)
	}
	return true, nil
}

func (r runKeyAutostart) SetEnabled(on bool) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE|registry.QUERY_VALUE)
	if err != nil {
		return fmt.Errorf("start at login: open Run key: %w", err)
	}
	defer k.Close()
	if !on {
		if err := k.DeleteValue("Ferry"); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("start at login: delete Run value: %w", err)
		}
		return nil
	}
	if err := k.SetStringValue("Ferry", `"`+r.exe+`"`); err != nil {
		return fmt.Errorf("start at login: set Run value: %w", err)
	}
	return nil
}
