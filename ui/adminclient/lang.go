package adminclient

// SetLanguage makes the core answer in the windows' language (sent as
// Accept-Language): the settings' help and allowed values, and the
// errors of a refused value. "" leaves the core's default, English. Call
// it before the first window; the language changes only with a restart
// of the windows.
func (c *Client) SetLanguage(tag string) { c.lang = tag }
