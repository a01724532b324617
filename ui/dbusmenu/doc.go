// Package dbusmenu drives a Linux tray icon from the outside, the way a
// desktop's panel does, for end-to-end tests under Xvfb and a private D-Bus
// session: it finds a process's StatusNotifierItem, reads its menu with
// com.canonical.dbusmenu GetLayout, finds items by label and clicks them
// with Event(id, "clicked", …). It also provides Watcher, a minimal
// org.kde.StatusNotifierWatcher (Debian ships none outside the big
// desktops), which makes a tray app believe a panel shows its icon.
//
// It knows D-Bus and the two specifications, nothing of Fyne or Ferry.
package dbusmenu
