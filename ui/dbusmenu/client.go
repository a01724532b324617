package dbusmenu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	itemIface = "org.kde.StatusNotifierItem"
	itemPath  = dbus.ObjectPath("/StatusNotifierItem")
	menuIface = "com.canonical.dbusmenu"
)

// ItemName is the bus name a process's first StatusNotifierItem takes
// (fyne.io/systray, like libappindicator, registers id 1).
func ItemName(pid int) string { return fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid) }

// Item is one menu entry as the panel sees it.
type Item struct {
	ID        int32
	Label     string
	Enabled   bool
	Visible   bool
	Separator bool
	// Checkable is true for items with a check mark (toggle-type
	// "checkmark"); Checked is their toggle-state.
	Checkable bool
	Checked   bool
	// Submenu is true when the item opens a submenu.
	Submenu  bool
	Children []Item
}

// Find returns the first item under i (depth first, i included) whose
// label is label.
func (i Item) Find(label string) (Item, bool) {
	if i.Label == label && !i.Separator {
		return i, true
	}
	for _, c := range i.Children {
		if f, ok := c.Find(label); ok {
			return f, true
		}
	}
	return Item{}, false
}

// Labels lists the labels of i's children ("---" for separators).
func (i Item) Labels() []string {
	var out []string
	for _, c := range i.Children {
		if c.Separator {
			out = append(out, "---")
		} else {
			out = append(out, c.Label)
		}
	}
	return out
}

// Client reads and clicks one item's menu.
type Client struct {
	conn    *dbus.Conn
	service string
	menu    dbus.ObjectPath
}

// Connect waits until the StatusNotifierItem of process pid is on the bus
// (polling every 100 ms until ctx ends) and reads its Menu property.
func Connect(ctx context.Context, conn *dbus.Conn, pid int) (*Client, error) {
	name := ItemName(pid)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var owned bool
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned)
		if err == nil && owned {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w (%v)", name, ErrNoItem, ctx.Err())
		case <-tick.C:
		}
	}
	var v dbus.Variant
	if err := conn.Object(name, itemPath).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, itemIface, "Menu").Store(&v); err != nil {
		return nil, fmt.Errorf("read %s Menu property: %w", name, err)
	}
	path, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		return nil, fmt.Errorf("%s Menu property is %T, not an object path", name, v.Value())
	}
	return &Client{conn: conn, service: name, menu: path}, nil
}

// Service is the item's bus name.
func (c *Client) Service() string { return c.service }

// ItemProperty reads a property of the StatusNotifierItem (Title, Status,
// IconPixmap, ToolTip…).
func (c *Client) ItemProperty(ctx context.Context, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := c.conn.Object(c.service, itemPath).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, itemIface, name).Store(&v)
	if err != nil {
		return v, fmt.Errorf("read %s %s: %w", c.service, name, err)
	}
	return v, nil
}

// layout is the dbusmenu wire form of a layout node: (ia{sv}av).
type layout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

func (c *Client) getLayout(ctx context.Context, parent int32) (layout, error) {
	var rev uint32
	var l layout
	err := c.conn.Object(c.service, c.menu).CallWithContext(ctx, menuIface+".GetLayout", 0, parent, int32(-1), []string{}).Store(&rev, &l)
	if err != nil {
		return l, fmt.Errorf("GetLayout(%d) on %s%s: %w", parent, c.service, c.menu, err)
	}
	return l, nil
}

// Layout reads the whole menu tree. fyne.io/systray answers the first
// GetLayout with one level only (a libdbusmenu-gtk quirk), so submenus
// that come back empty are read again on their own.
func (c *Client) Layout(ctx context.Context) (Item, error) {
	root, err := c.getLayout(ctx, 0)
	if err != nil {
		return Item{}, err
	}
	return c.convert(ctx, root, 0)
}

func (c *Client) convert(ctx context.Context, l layout, depth int) (Item, error) {
	it := Item{ID: l.ID, Enabled: true, Visible: true}
	for k, v := range l.Props {
		switch k {
		case "label":
			s, _ := v.Value().(string)
			// dbusmenu marks mnemonics with "_"; "__" is a literal one.
			it.Label = strings.ReplaceAll(s, "__", "_")
		case "enabled":
			it.Enabled, _ = v.Value().(bool)
		case "visible":
			it.Visible, _ = v.Value().(bool)
		case "type":
			it.Separator = v.Value() == "separator"
		case "toggle-type":
			it.Checkable = v.Value() == "checkmark"
		case "toggle-state":
			it.Checked = toInt(v.Value()) == 1
		case "children-display":
			it.Submenu = v.Value() == "submenu"
		}
	}
	if it.Submenu && len(l.Children) == 0 && depth < 8 {
		sub, err := c.getLayout(ctx, l.ID)
		if err != nil {
			return it, err
		}
		l.Children = sub.Children
	}
	for _, cv := range l.Children {
		cl, ok := asLayout(cv.Value())
		if !ok {
			return it, fmt.Errorf("menu item %d: child is %T", l.ID, cv.Value())
		}
		child, err := c.convert(ctx, cl, depth+1)
		if err != nil {
			return it, err
		}
		if child.Visible {
			it.Children = append(it.Children, child)
		}
	}
	return it, nil
}

// asLayout converts a child variant's value, which godbus decodes as
// []interface{}{int32, map[string]dbus.Variant, []dbus.Variant}.
func asLayout(v any) (layout, bool) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 3 {
		return layout{}, false
	}
	id, ok1 := parts[0].(int32)
	props, ok2 := parts[1].(map[string]dbus.Variant)
	children, ok3 := parts[2].([]dbus.Variant)
	return layout{ID: id, Props: props, Children: children}, ok1 && ok2 && ok3
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	case uint32:
		return int64(n)
	case int16:
		return int64(n)
	case byte:
		return int64(n)
	}
	return 0
}

// Find reads the menu and returns the item labelled label.
func (c *Client) Find(ctx context.Context, label string) (Item, error) {
	root, err := c.Layout(ctx)
	if err != nil {
		return Item{}, err
	}
	if it, ok := root.Find(label); ok {
		return it, nil
	}
	return Item{}, fmt.Errorf("%q (menu has %q): %w", label, root.Labels(), ErrNoLabel)
}

// WaitFor polls the menu every 100 ms until an item labelled label
// appears (menus are rebuilt asynchronously after a state change) or ctx
// ends.
func (c *Client) WaitFor(ctx context.Context, label string) (Item, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		it, err := c.Find(ctx, label)
		if err == nil || !errors.Is(err, ErrNoLabel) {
			return it, err
		}
		select {
		case <-ctx.Done():
			return Item{}, fmt.Errorf("wait for %w; %v", err, ctx.Err())
		case <-tick.C:
		}
	}
}

// Click sends the "clicked" event for item id, as a panel does.
func (c *Client) Click(ctx context.Context, id int32) error {
	ts := uint32(time.Now().Unix())
	call := c.conn.Object(c.service, c.menu).CallWithContext(ctx, menuIface+".Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), ts)
	if call.Err != nil {
		return fmt.Errorf("click item %d on %s: %w", id, c.service, call.Err)
	}
	return nil
}

// ClickLabel finds the item labelled label and clicks it.
func (c *Client) ClickLabel(ctx context.Context, label string) error {
	it, err := c.Find(ctx, label)
	if err != nil {
		return err
	}
	return c.Click(ctx, it.ID)
}
